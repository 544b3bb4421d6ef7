/**
 * Processes killed with SIGKILL: concurrent appenders (one killed halfway) leave every finished
 * value intact and once; a shuffle killed before and after its first commits resumes exactly
 * what it had committed on its kept store and equals the reference.
 */
import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { File, Lmdb, type Partd } from '../src/index.js';
import { jobKey, readMarkers } from '../src/shuffle/runtime/commits.js';
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

/** Records the splits of the job in a killed child's store hold: what a re-run must resume (0 if it had no store or job yet). */
async function committedRecords(dir: string): Promise<number> {
  if (!fs.existsSync(path.join(dir, '.partd-lmdb'))) return 0; // killed before it made its store
  const store = new Lmdb(dir, { readOnly: true });
  try {
    const job = await store.get(jobKey());
    if (job.length === 0) return 0; // killed before it recorded its job
    const { splits } = JSON.parse(Buffer.from(job).toString('utf8')) as { splits: unknown[] };
    let n = 0;
    for (let s = 0; s < splits.length; s++) for (const m of await readMarkers(store, s)) n += m.records;
    return n;
  } finally {
    await store.close();
  }
}

describe('a shuffle process killed with SIGKILL, then run again on its store', () => {
  const N = 200_000;
  const keys = new Set(Array.from({ length: N }, (_, i) => (Math.imul(i, 2654435761) >>> 0) % 100000));
  const want = { groups: keys.size, n: N, ids: (N * (N - 1)) / 2, records: N };
  // The first run is slowed to at least 4 s (40 ms per 1000 records in each of its 2 workers), so
  // every kill below lands while it runs, whatever the machine; the re-run is not slowed.
  it.each([
    ['150 ms after its start', 'start', 150],
    ['at its first commit', 'commit', 0],
    ['250 ms after its first commit', 'commit', 250],
    ['600 ms after its first commit', 'commit', 600],
    ['1000 ms after its first commit', 'commit', 1000],
  ] as const)('killed %s: the re-run resumes what it committed and equals the reference', async (_, from, delay) => {
    const store = path.join(tmp(), 'store');
    const child = spawn(process.execPath, [fixture('groupby-child.mjs'), store, String(N)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '', PARTD_TEST_PAUSE_MS: '40' },
    });
    let stdout = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    const kill = () => (timer ??= setTimeout(() => child.kill('SIGKILL'), delay));
    if (from === 'start') kill();
    child.stdout.on('data', (d: Buffer) => ((stdout += d), from === 'commit' && stdout.includes('commit\n') && kill()));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.on('close', (c, s) => resolve([c, s])),
    );
    clearTimeout(timer);
    expect({ code, signal, stderr, finished: stdout.includes('{') }).toEqual({
      code: null,
      signal: 'SIGKILL',
      stderr: '',
      finished: false,
    }); // killed, not done
    const committed = await committedRecords(store);
    if (from === 'commit') expect(committed).toBeGreaterThan(0); // it printed "commit" after one landed
    const rerun = await runNode(fixture('groupby-child.mjs'), [store, String(N)]);
    expect(rerun.stderr).toBe('');
    const got = JSON.parse(rerun.stdout.trim().split('\n').at(-1)!) as typeof want & { resumed: number };
    expect({ groups: got.groups, n: got.n, ids: got.ids, records: got.records }).toEqual(want);
    expect(got.resumed).toBe(committed); // every committed record resumed, none read again
  });
});
