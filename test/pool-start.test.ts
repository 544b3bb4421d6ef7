/**
 * A local job's threads start while its input is planned (engine.ts): a plan that fails must
 * stop them, even as they load their modules, and a job planned for fewer threads than it
 * asked must still give the exact answer and let the process exit.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { mostSplits, planInput } from '../src/shuffle/input/plan.js';

const index = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'src', 'index.js');

/** Runs `body` in a fresh Node process that must end on its own (no `process.exit`): its stdout. */
function run(body: string): string {
  const script = `const partd = await import(${JSON.stringify(index)});\n${body}`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  expect({ signal: r.signal, status: r.status, stderr: r.stderr }).toEqual({ signal: null, status: 0, stderr: '' });
  return r.stdout.trim();
}

describe('threads started before the plan', () => {
  it('are stopped when the plan fails, however soon: 40 failed jobs, no crash, and the process exits', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'partd-pool-'));
    try {
      const csv = path.join(dir, 'a.csv');
      fs.writeFileSync(csv, 'k,v\na,1\n');
      const out = run(`
        const codes = [];
        const jobs = [
          { input: { csv: ${JSON.stringify(path.join(dir, 'missing.csv'))} }, key: 'k' },
          { input: { csv: ${JSON.stringify(csv)} }, key: 'k', aggregate: { s: { op: 'sum', field: 'nope' } } },
          { input: { csv: ${JSON.stringify(csv)} }, key: 'k', types: { v: 'string' }, aggregate: { s: { op: 'sum', field: 'v' } } },
        ];
        for (let i = 0; i < 40; i++) {
          const job = jobs[i % jobs.length];
          try {
            await partd.groupBy({ aggregate: { n: { op: 'count' } }, workers: 3, ...job });
            codes.push('no error');
          } catch (e) {
            codes.push(e.name);
          }
        }
        console.log(JSON.stringify([...new Set(codes)]));`);
      const names = JSON.parse(out) as string[];
      expect(names).not.toContain('no error');
      expect(names.length).toBeGreaterThan(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serve a job planned for fewer of them: its answer exact, and the process exits', () => {
    const out = run(`
      const records = Array.from({ length: 5 }, (_, i) => ({ k: 'k' + (i % 2), v: i }));
      const g = await partd.groupBy({ input: { records }, key: 'k', aggregate: { s: { op: 'sum', field: 'v' } }, workers: 4 });
      console.log(JSON.stringify([...g.values()].sort((a, b) => (a.key < b.key ? -1 : 1))));`);
    // the reference: the records' sums by key, computed here
    const sums = new Map<string, number>();
    for (let i = 0; i < 5; i++) sums.set('k' + (i % 2), (sums.get('k' + (i % 2)) ?? 0) + i);
    expect(JSON.parse(out)).toEqual([...sums].sort().map(([key, s]) => ({ key, s })));
  });

  it('are as many as the input can use: a small file, one thread; a records input, as many as asked', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'partd-pool-'));
    try {
      const csv = path.join(dir, 'a.csv');
      fs.writeFileSync(csv, 'k,v\n' + Array.from({ length: 500 }, (_, i) => `k${i % 3},${i}`).join('\n') + '\n');
      // the most threads alive during a job, beyond those before it (Linux: /proc/self/task)
      const out = run(`
        const fs = await import('node:fs');
        const count = () => fs.readdirSync('/proc/self/task').length;
        const aggregate = { n: { op: 'count' } };
        const extra = async (input) => {
          const before = count();
          let most = before;
          const t = setInterval(() => (most = Math.max(most, count())), 1);
          await partd.groupBy({ input, key: 'k', aggregate, workers: 4, progress: () => (most = Math.max(most, count())) });
          clearInterval(t);
          return most - before;
        };
        await partd.groupBy({ input: { csv: ${JSON.stringify(csv)} }, key: 'k', aggregate, workers: 1 }); // the threadpool started
        const records = Array.from({ length: 45000 }, (_, i) => ({ k: 'k' + (i % 3) }));
        console.log(JSON.stringify({ file: await extra({ csv: ${JSON.stringify(csv)} }), records: await extra({ records }) }));`);
      expect(JSON.parse(out)).toEqual({ file: 1, records: 4 });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('mostSplits: never fewer than the plan makes (the early threads would be too few)', () => {
  it('NDJSON and CSV files of any size, cut into any number of splits, for any worker count', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'partd-splits-'));
    try {
      const reads = { key: 'k', numeric: [], fields: [], types: {}, whole: true };
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('csv', 'ndjson'),
          fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 3 }),
          fc.integer({ min: 1, max: 8 }),
          fc.option(fc.integer({ min: 1, max: 60 }), { nil: undefined }),
          async (format, lineCounts, workers, splits) => {
            const files = lineCounts.map((n, f) => {
              const file = path.join(dir, `${f}.${format}`);
              const lines = Array.from({ length: n }, (_, i) =>
                format === 'csv' ? `k${i},${'x'.repeat(i % 40)}` : JSON.stringify({ k: `k${i}` }),
              );
              fs.writeFileSync(file, (format === 'csv' ? 'k,v\n' : '') + lines.map((l) => l + '\n').join(''));
              return file;
            });
            const input = { [format]: files };
            const planned = await planInput(input, workers, splits, reads);
            expect(mostSplits(input, workers, splits)).toBeGreaterThanOrEqual(planned.splits.length);
          },
        ),
        { numRuns: 60 },
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('files over the 1 MiB least split, and generated ranges', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'partd-splits-'));
    try {
      const file = path.join(dir, 'big.ndjson');
      fs.writeFileSync(
        file,
        Array.from({ length: 120_000 }, (_, i) => JSON.stringify({ k: `key${i}`, pad: 'y'.repeat(i % 17) }) + '\n').join(''),
      );
      const reads = { key: 'k', numeric: [], fields: [], types: {}, whole: true };
      for (const workers of [1, 2, 3, 8]) {
        const planned = await planInput({ ndjson: file }, workers, undefined, reads);
        expect(mostSplits({ ndjson: file }, workers, undefined)).toBe(planned.splits.length);
      }
      const generator = path.join(dir, 'gen.mjs');
      fs.writeFileSync(generator, 'export function* gen(start, end) { for (let i = start; i < end; i++) yield { k: i }; }\n');
      for (const [count, workers] of [
        [10, 4],
        [1_000_000, 2],
        [7_777_777, 3],
      ] as const) {
        const input = { generate: { module: generator, export: 'gen' }, count };
        const planned = await planInput(input, workers, undefined, reads);
        expect(mostSplits(input, workers, undefined)).toBeGreaterThanOrEqual(planned.splits.length);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
