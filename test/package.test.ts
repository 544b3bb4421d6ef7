/**
 * What `npm pack` ships: the compiled src/ and workers/ with their declarations and the sources
 * their maps point at, the docs and the license; no tests, benches or examples. The pack runs
 * in a copy of the checkout (what a clone holds: tracked and new files, not ignored ones), so
 * its prepack (clean, then the build of tsconfig.build.json) never touches this checkout's dist/.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

interface Packed {
  files: { path: string; size: number }[];
  entryCount: number;
  size: number;
  unpackedSize: number;
}

let stage: string;
let packed: Packed;
let shipped: Set<string>;

/** The checkout's files as a clone would hold them: tracked or new, not ignored, not deleted. */
function checkoutFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  return out.split('\0').filter((f) => f && fs.statSync(path.join(root, f), { throwIfNoEntry: false })?.isFile());
}

beforeAll(() => {
  stage = fs.mkdtempSync(path.join(os.tmpdir(), 'partd-pack-'));
  for (const file of checkoutFiles()) {
    fs.mkdirSync(path.dirname(path.join(stage, file)), { recursive: true });
    fs.copyFileSync(path.join(root, file), path.join(stage, file));
  }
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(stage, 'node_modules'), 'dir');
  // A development build's leftovers, which the prepack's clean must drop.
  fs.mkdirSync(path.join(stage, 'dist', 'test'), { recursive: true });
  fs.writeFileSync(path.join(stage, 'dist', 'test', 'left-over.test.js'), '');
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--foreground-scripts=false'], {
    cwd: stage,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new Error(`npm pack --dry-run failed (${r.status}):\n${r.stderr}\n${r.stdout}`);
  // The JSON is the last thing on stdout (a lifecycle script's output may come before it).
  const json = r.stdout.slice(r.stdout.indexOf('[\n'));
  packed = (JSON.parse(json) as Packed[])[0]!;
  shipped = new Set(packed.files.map((f) => f.path));
}, 120_000);

afterAll(() => {
  if (stage) fs.rmSync(stage, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('ships only the package: dist/src, dist/workers, their sources, docs, and the root files', () => {
    const allowed = /^(dist\/(src|workers)\/|src\/|workers\/|docs\/[^/]+\.md$|(LICENSE|README\.md|CHANGELOG\.md|package\.json)$)/;
    expect([...shipped].filter((f) => !allowed.test(f))).toEqual([]);
    expect([...shipped].filter((f) => /(^|\/)(test|bench|examples)\//.test(f))).toEqual([]);
    for (const file of ['LICENSE', 'README.md', 'CHANGELOG.md', 'package.json']) expect(shipped).toContain(file);
  });

  it('every compiled module has its declarations', () => {
    const modules = [...shipped].filter((f) => f.startsWith('dist/') && /\.c?js$/.test(f));
    expect(modules.length).toBeGreaterThan(10);
    const missing = modules.map((f) => f.replace(/\.js$/, '.d.ts').replace(/\.cjs$/, '.d.cts')).filter((d) => !shipped.has(d));
    expect(missing).toEqual([]);
  });

  it("every source map's sources ship beside it, and every compiled module has its map", () => {
    const maps = [...shipped].filter((f) => f.endsWith('.map'));
    const modules = [...shipped].filter((f) => f.startsWith('dist/') && /\.c?js$/.test(f));
    expect(modules.filter((f) => !shipped.has(`${f}.map`))).toEqual([]);
    const missing: string[] = [];
    for (const map of maps) {
      const { sources } = JSON.parse(fs.readFileSync(path.join(stage, map), 'utf8')) as { sources: string[] };
      expect(sources.length).toBeGreaterThan(0);
      for (const source of sources) {
        const target = path.posix.normalize(path.posix.join(path.posix.dirname(map), source));
        if (!shipped.has(target)) missing.push(`${map} → ${target}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('the targets of main, types, bin and exports ship', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(stage, 'package.json'), 'utf8')) as {
      main: string;
      types: string;
      bin: Record<string, string>;
      exports: unknown;
    };
    const targets: string[] = [pkg.main, pkg.types, ...Object.values(pkg.bin)];
    const walk = (e: unknown): void => {
      if (typeof e === 'string') targets.push(e);
      else if (e && typeof e === 'object') Object.values(e).forEach(walk);
    };
    walk(pkg.exports);
    expect(targets.length).toBeGreaterThan(4);
    expect(targets.map((t) => path.posix.normalize(t)).filter((t) => !shipped.has(t))).toEqual([]);
    // the bin runs as a script: a shebang
    for (const bin of Object.values(pkg.bin))
      expect(fs.readFileSync(path.join(stage, bin), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('the workers the pool loads ship: dist/workers/entry.cjs and what it imports', () => {
    expect(shipped).toContain('dist/workers/entry.cjs');
    expect(shipped).toContain('dist/workers/shuffle.js');
  });
});

describe('loading the package', () => {
  /** The Redis clients' modules a script of `body` has loaded, once it ran. */
  const loaded = (body: string): string[] => {
    const script = `import { createRequire } from 'node:module';
      const partd = await import(${JSON.stringify(path.join(root, 'dist/src/index.js'))});
      ${body}
      const cached = Object.keys(createRequire(import.meta.url).cache);
      console.log(JSON.stringify(['ioredis', 'bullmq'].filter((m) => cached.some((f) => f.includes('/node_modules/' + m + '/')))));
      process.exit(0);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    return JSON.parse(r.stdout) as string[];
  };

  it('loads neither ioredis nor BullMQ for a local job (they are most of its import time)', () => {
    expect(
      loaded('await partd.groupBy({ input: { records: [{ k: 1 }] }, key: "k", aggregate: { n: { op: "count" } }, workers: 1 });'),
    ).toEqual([]);
  });

  it('loads ioredis when a Redis store is made, and BullMQ when a queue is needed', () => {
    expect(loaded('new partd.Redis("redis://127.0.0.1:1");')).toEqual(['ioredis']);
    expect(loaded('partd.startWorker({ redis: "redis://127.0.0.1:1" });')).toEqual(['ioredis', 'bullmq']);
  });
});
