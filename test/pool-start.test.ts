/**
 * A local job's threads start while its input is planned (engine.ts): a plan that fails must
 * stop them, even as they load their modules, and a job planned for fewer threads than it
 * asked must still give the exact answer and let the process exit.
 */
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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
});
