/**
 * Processes killed with SIGKILL: concurrent appenders (one killed halfway) leave every finished
 * value intact and once; a shuffle killed at random points resumes on its kept store and
 * equals the reference.
 */
import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { File, Lmdb, type Partd } from '../src/index.js';
import { fixture, runNode } from './support/child.js';
import { parseRecords } from './support/records.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'partd-crash-'));

describe.each([
  ['lmdb', (d: string) => new Lmdb(d)],
  ['lmdb-files', (d: string) => new Lmdb(d, { valueFiles: 4096, valueFileMax: 64 << 10 })], // values in value files, a new one every 64 KiB
  ['file', (d: string) => new File(d)],
] as [string, (d: string) => Partd][])('8 processes appending to one %s store, one killed halfway', (kind, open) => {
  it('keeps every finished value intact and once; nothing torn', async () => {
    const dir = path.join(tmp(), 'store');
    await open(dir).close();
    const WRITERS = 8;
    const COUNT = kind === 'lmdb' ? 3000 : 600;
    const VICTIM = 5;
    const runs = Array.from({ length: WRITERS }, (_, w) =>
      runNode(fixture('killable-appender.mjs'), [kind, dir, String(w), String(COUNT)], (line, child) => {
        if (w === VICTIM && line === 'half') child.kill('SIGKILL');
      }),
    );
    const results = await Promise.all(runs);
    expect(results[VICTIM]!.signal).toBe('SIGKILL');
    results.forEach((r, w) => w !== VICTIM && expect(r.stdout).toContain('done'));
    const store = open(dir);
    const records = parseRecords(await store.get('shared')); // throws on a torn record
    for (let w = 0; w < WRITERS; w++) {
      const mine = records.filter(([x]) => x === w).map(([, i]) => i);
      if (w === VICTIM) {
        // the killed writer: a prefix of its calls, each once (at least the half it reported)
        expect(mine).toEqual(Array.from({ length: mine.length }, (_, i) => i));
        expect(mine.length).toBeGreaterThan(COUNT >> 1);
      } else expect(mine).toEqual(Array.from({ length: COUNT }, (_, i) => i));
    }
    await store.close();
  });
});

it('a noSync store whose calls are written ahead, its writer killed halfway: every finished call intact and once', async () => {
  const dir = path.join(tmp(), 'store');
  const open = () => new Lmdb(dir, { noSync: true, valueFiles: 4096, valueFileMax: 64 << 10 });
  await open().close();
  const COUNT = 1000;
  const r = await runNode(fixture('killable-appender.mjs'), ['lmdb-ahead', dir, '0', String(COUNT)], (line, child) => {
    if (line === 'half') setTimeout(() => child.kill('SIGKILL'), Math.random() * 30); // somewhere in a later call
  });
  expect(r.signal).toBe('SIGKILL');
  const store = open();
  const mine = parseRecords(await store.get('shared')).map(([, i]) => i); // throws on a torn record
  expect(mine).toEqual(Array.from({ length: mine.length }, (_, i) => i));
  expect(mine.length).toBeGreaterThan(COUNT >> 1);
  const pad = await store.get('pad');
  expect(pad.length).toBe(mine.length * 70_000); // the same calls, whole
  expect(pad.every((x) => x === 7)).toBe(true);
  await store.close();
});

describe('a shuffle process killed with SIGKILL, then run again on its store', () => {
  const N = 200_000;
  const keys = new Set(Array.from({ length: N }, (_, i) => (Math.imul(i, 2654435761) >>> 0) % 100000));
  const want = { groups: keys.size, n: N, ids: (N * (N - 1)) / 2 };
  it.each([150, 400, 700, 1000, 1400])('killed after %i ms: the re-run equals the reference', async (delay) => {
    const store = path.join(tmp(), 'store');
    const child = spawn(process.execPath, [fixture('groupby-child.mjs'), store, String(N)], { stdio: 'ignore', env: { ...process.env, NODE_OPTIONS: '' } });
    const killed = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(child.kill('SIGKILL')), delay);
      child.on('exit', () => (clearTimeout(timer), resolve(false)));
    });
    await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(undefined) : child.on('exit', r)));
    const rerun = await runNode(fixture('groupby-child.mjs'), [store, String(N)]);
    expect(rerun.stderr).toBe('');
    const got = JSON.parse(rerun.stdout) as typeof want;
    expect({ groups: got.groups, n: got.n, ids: got.ids }).toEqual(want);
    void killed;
  });
});
