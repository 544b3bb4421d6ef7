/**
 * Processes killed with SIGKILL: concurrent appenders (one killed halfway) leave every finished
 * value intact and once; a shuffle killed before and after its first commits, and a join killed
 * in either side's scatter or in its gather, resume exactly what they had committed on their
 * kept store and equal the reference.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { File, Lmdb, type Partd } from '../src/index.js';
import { RIGHT_SPLITS } from '../src/shuffle/protocol.js';
import { fixture, killChildren, runNode } from './support/child.js';
import { prng } from './support/faults.js';
import { canonical, nestedLoopJoin } from './support/join-reference.js';
import { committedRecords } from './support/markers.js';
import { parseRecords } from './support/records.js';
import { tempDirs } from './support/temp-dirs.js';

const tmp = tempDirs('partd-crash-');
afterEach(killChildren);

describe.each([
  ['lmdb', (d: string) => new Lmdb(d)],
  ['lmdb-files', (d: string) => new Lmdb(d, { valueFiles: 4096, valueFileMax: 64 << 10 })], // values in value files, a new one every 64 KiB
  ['file', (d: string) => new File(d)],
] as [string, (d: string) => Partd][])('8 processes appending to one %s store, one killed halfway', (kind, open) => {
  it('keeps every finished value intact and once; nothing torn', async () => {
    const dir = path.join(tmp(), 'store');
    await open(dir).close();
    const WRITERS = 8;
    const COUNT = kind === 'lmdb' ? 1500 : 600; // every lmdb call an fsync under the writer lock: 12,000 in turn
    const VICTIM = 5;
    const hold = kind !== 'file'; // killed holding LMDB's writer lock, not waiting for it (see the fixture)
    const runs = Array.from({ length: WRITERS }, (_, w) =>
      runNode(
        fixture('killable-appender.mjs'),
        [kind, dir, String(w), String(COUNT), ...(w === VICTIM && hold ? ['hold'] : [])],
        (line, child) => {
          if (w === VICTIM && line === 'half') child.kill('SIGKILL');
        },
      ),
    );
    const results = await Promise.all(runs);
    expect(results[VICTIM]!.signal).toBe('SIGKILL');
    results.forEach((r, w) => w !== VICTIM && expect(r.stdout).toContain('done'));
    const store = open(dir);
    const records = parseRecords(await store.get('shared')); // throws on a torn record
    for (let w = 0; w < WRITERS; w++) {
      const mine = records.filter(([x]) => x === w).map(([, i]) => i);
      if (w === VICTIM) {
        // the killed writer: a prefix of its calls, each once (at least the half it reported; held: exactly, its last call undone)
        expect(mine).toEqual(Array.from({ length: mine.length }, (_, i) => i));
        if (hold) expect(mine.length).toBe((COUNT >> 1) + 1);
        else expect(mine.length).toBeGreaterThan(COUNT >> 1);
      } else expect(mine).toEqual(Array.from({ length: COUNT }, (_, i) => i));
    }
    await store.close();
  }, 180_000); // 8 processes in turn on one lock: minutes on a loaded machine
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

describe('a join process killed with SIGKILL, then run again on its store', () => {
  const LEFT = 30_000;
  const RIGHT = 8_000;
  const PAUSE = 50; // join-crash-records.mjs: the first run's inputs and row reading slowed by this
  type Rec = { key: string | null };
  type Counts = { records: number; resumed: number };
  let expected: string[] | undefined;
  /** The outer join of both inputs by a nested loop, from the records the workers make (made once, unslowed). */
  async function reference(): Promise<string[]> {
    type Gen = (start: number, end: number) => Iterable<Rec>;
    const m = (await import(fixture('join-crash-records.mjs'))) as { facts: Gen; dims: Gen };
    const key = (r: Rec) => r.key;
    return (expected ??= canonical(nestedLoopJoin([...m.facts(0, LEFT)], [...m.dims(0, RIGHT)], key, key, 'outer')));
  }
  // Where each round's kill aims: after the left side's first commit, after the right side's
  // first commit (a commit after the right's "right" line), or after the gather's first event;
  // then a seeded delay, shorter than the slowed phase still has to run.
  const PHASES = [
    { phase: 'left', after: (line: string, right: boolean) => line === 'commit' && !right, within: 300 },
    { phase: 'right', after: (line: string, right: boolean) => line === 'commit' && right, within: 200 },
    { phase: 'gather', after: (line: string) => line === 'gather', within: 800 },
  ] as const;
  const ROUNDS = Array.from({ length: 9 }, (_, r) => {
    const { phase, after, within } = PHASES[r % 3]!;
    const seed = 9100 + r;
    return { seed, phase, after, delay: Math.floor(prng(seed)() * within) };
  });

  it.each(ROUNDS)('seed $seed, killed $delay ms into its $phase phase: the re-run resumes what it committed, rows exact', async (round) => {
    const dir = tmp();
    const [store, rows] = [path.join(dir, 'store'), path.join(dir, 'rows')];
    const args = [store, rows, String(LEFT), String(RIGHT)];
    let right = false;
    let timer: NodeJS.Timeout | undefined;
    const killed = await runNode(
      fixture('join-crash-child.mjs'),
      args,
      (line, child) => {
        right ||= line === 'right';
        if (round.after(line, right)) timer ??= setTimeout(() => child.kill('SIGKILL'), round.delay);
      },
      undefined,
      { PARTD_TEST_PAUSE_MS: String(PAUSE) },
    );
    clearTimeout(timer);
    expect({ signal: killed.signal, stderr: killed.stderr, finished: killed.stdout.includes('{') }).toEqual({
      signal: 'SIGKILL',
      stderr: '',
      finished: false,
    });
    // where the kill landed, from what the store holds: the phase it aimed at
    const committed = {
      left: await committedRecords(store, (s) => s < RIGHT_SPLITS),
      right: await committedRecords(store, (s) => s >= RIGHT_SPLITS),
    };
    const landed = committed.right === RIGHT ? 'gather' : committed.left === LEFT ? 'right' : 'left';
    expect({ landed, partly: { left: committed.left > 0, right: committed.right > 0 } }).toEqual({
      landed: round.phase,
      partly: { left: true, right: round.phase !== 'left' },
    });
    const rerun = await runNode(fixture('join-crash-child.mjs'), args);
    expect(rerun.stderr).toBe('');
    const stats = JSON.parse(rerun.stdout.trim().split('\n').at(-1)!) as { rows: number; left: Counts; right: Counts };
    // the scatter resumed: each side's committed records, none read again; the gather ran whole
    expect({ left: stats.left, right: stats.right }).toEqual({
      left: { records: LEFT, resumed: committed.left },
      right: { records: RIGHT, resumed: committed.right },
    });
    const got = fs
      .readFileSync(rows, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as unknown);
    expect(got.length).toBe(stats.rows);
    expect(canonical(got)).toEqual(await reference());
    fs.rmSync(dir, { recursive: true });
  });
});
