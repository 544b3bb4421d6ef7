/**
 * join equals a nested-loop reference (test/support/join-reference.ts) for every `how`: on
 * random inputs, duplicate, null, missing and numeric keys, empty sides, one side much larger,
 * a skewed key, partitions over their memory share (grace), every input kind, a kept store
 * resumed; and refuses bad options and records clearly.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import fs from 'node:fs';
import path from 'node:path';
import {
  BadRecordError,
  JoinMemoryError,
  ShuffleError,
  join,
  joinToFile,
  type JoinHow,
  type JoinOptions,
  type JoinRow,
  type JoinStats,
  type Progress,
} from '../src/index.js';
import { RIGHT_SPLITS } from '../src/shuffle/protocol.js';
import { withFaults } from '../src/shuffle/runtime/faults.js';
import { liveTempDirs } from '../src/stores/temp.js';
import { fixture } from './support/child.js';
import { canonical, nestedLoopJoin } from './support/join-reference.js';
import { fixtureRecords } from './support/reference.js';
import { tempDirs } from './support/temp-dirs.js';

const HOWS: JoinHow[] = ['inner', 'left', 'right', 'outer'];
const tmp = tempDirs('partd-join-');
const mods = fixture('join-modules.mjs');
type Rec = { i: number; k?: unknown; s?: string };
const k = (r: { k?: unknown }) => r.k;

/** Runs a join to its end: its rows and stats. */
async function run(options: JoinOptions): Promise<{ rows: unknown[]; stats: JoinStats }> {
  let stats: JoinStats | undefined;
  const rows: unknown[] = [];
  for await (const row of join(options, (s) => (stats = s))) rows.push(row);
  return { rows, stats: stats! };
}

/** The rows of a join of two record arrays on `k`, and the reference's, as sorted JSON. */
async function both(left: Rec[], right: Rec[], how: JoinHow, options: Partial<JoinOptions> = {}) {
  const { rows, stats } = await run({ left: { records: left }, right: { records: right }, on: 'k', how, ...options });
  return { got: canonical(rows), want: canonical(nestedLoopJoin(left, right, k, k, how)), stats };
}

describe('join against the nested loop', () => {
  // strings and numbers that look alike, duplicates, null, missing (undefined), -0 (equal to 0)
  const keyArb = fc.constantFrom<unknown>('a', 'b', '1', '', 1, 0, -0, 2, 1.5, null, undefined);
  const sideArb = (tag: string) =>
    fc
      .array(keyArb, { maxLength: 40 })
      .map((keys) => keys.map((key, i): Rec => (key === undefined ? { i, s: tag } : { i, k: key, s: tag })));

  it('every how on random inputs: duplicate, null, missing, numeric and string keys', async () => {
    await fc.assert(
      fc.asyncProperty(
        sideArb('l'),
        sideArb('r'),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 2 }),
        async (left, right, partitions, workers) => {
          for (const how of HOWS) {
            const { got, want } = await both(left, right, how, { partitions, workers });
            expect(got).toEqual(want);
          }
        },
      ),
      { numRuns: 8 },
    );
  });

  it.each(HOWS)('both sides empty, and either side empty (%s)', async (how) => {
    const some: Rec[] = [{ i: 0, k: 'a' }, { i: 1, k: null }, { i: 2 }, { i: 3, k: 'a' }];
    for (const [left, right] of [
      [[], []],
      [some, []],
      [[], some],
    ]) {
      const { got, want, stats } = await both(left!, right!, how, { partitions: 3, workers: 2 });
      expect(got).toEqual(want);
      expect(stats.rows).toBe(want.length);
    }
  });

  it.each(HOWS)('one side much larger: 20,000 generated records against 58 of 60 keys (%s)', async (how) => {
    const N = 20_000;
    const dims = Array.from({ length: 60 }, (_, i) => ({ key: `k${i}`, name: `n${i}` })).filter((d) => d.key !== 'k7' && d.key !== 'k8');
    const { rows, stats } = await run({
      left: { generate: { module: fixture('shuffle-modules.mjs'), export: 'records' }, count: N },
      right: { records: dims },
      on: 'key',
      how,
      partitions: 16,
      workers: 2,
    });
    const key = (r: { key: string }) => r.key;
    expect(canonical(rows)).toEqual(canonical(nestedLoopJoin(fixtureRecords(0, N), dims, key, key, how)));
    expect(stats.left.records).toBe(N);
    expect(stats.right.records).toBe(58);
  });
});

describe("a probe side's stored frames sent whole (join/probed.ts)", () => {
  // the right side is probed: 6,000 generated records on 6 keys of a key function; a key with
  // two left records gives its right records two rows each, as ordinary rows beside the frame
  const tagParity = (r: { id: number; tag: string }) => `${r.tag}:${r.id % 2}`;
  const left = [0, 1, 2, 3, 4, 6, 8].map((id) => ({ id, tag: ['a', 'b', 'c'][id % 3]! })); // keys a:0 and c:0 twice, b:1, a:1, b:0; c:1 on the right alone
  const N = 6000;
  const right = Array.from({ length: N }, (_, id) => ({ id, tag: ['a', 'b', 'c'][id % 3]! }));

  it.each(HOWS)('rows exact, and no two rows share a record object (%s)', async (how) => {
    const { rows, stats } = await run({
      left: { records: left },
      right: { generate: { module: mods, export: 'ids' }, count: N },
      on: { module: mods, export: 'tagParity' },
      how,
      partitions: 4,
      workers: 2,
    });
    expect(canonical(rows)).toEqual(canonical(nestedLoopJoin(left, right, tagParity, tagParity, how)));
    expect(stats.rows).toBe(rows.length);
    const records = rows.flatMap((r) => [(r as JoinRow).left, (r as JoinRow).right]).filter((x) => x !== null);
    expect(new Set(records).size).toBe(records.length);
  });
});

describe('a small side broadcast (join/broadcast.ts): the other read from its input, never shuffled', () => {
  // an NDJSON probe side of random keys (duplicates, null, missing, numbers and strings alike), a small records side
  const keyArb = fc.constantFrom<unknown>('a', 'b', '1', 1, 2, 1.5, null, undefined);
  const recs = (tag: string, max: number) =>
    fc
      .array(keyArb, { maxLength: max })
      .map((keys) => keys.map((key, i): Rec => (key === undefined ? { i, s: tag } : { i, k: key, s: tag })));
  const writeNdjson = (dir: string, records: Rec[]) => {
    const file = path.join(dir, `p-${Math.random().toString(36).slice(2)}.ndjson`);
    fs.writeFileSync(file, records.map((r) => JSON.stringify(r) + '\n').join(''));
    return file;
  };

  it('every how, either side small: rows equal the nested loop and the shuffled join; broadcast only where how allows', async () => {
    const dir = tmp();
    await fc.assert(
      fc.asyncProperty(
        recs('big', 300),
        recs('small', 12),
        fc.boolean(),
        fc.integer({ min: 1, max: 7 }),
        async (big, small, bigLeft, partitions) => {
          const file = writeNdjson(dir, big);
          const [left, right] = bigLeft ? [big, small] : [small, big];
          const inputs = bigLeft
            ? { left: { ndjson: file }, right: { records: small } }
            : { left: { records: small }, right: { ndjson: file } };
          for (const how of HOWS) {
            const want = canonical(nestedLoopJoin(left, right, k, k, how));
            const broadcast = await run({ ...inputs, on: 'k', how, partitions, workers: 2 });
            const shuffled = await run({ ...inputs, on: 'k', how, partitions, workers: 2, broadcast: false });
            expect(canonical(broadcast.rows)).toEqual(want);
            expect(canonical(shuffled.rows)).toEqual(want);
            // the small side is held whole unless how keeps its unmatched rows
            const keepsSmall = bigLeft ? how === 'right' || how === 'outer' : how === 'left' || how === 'outer';
            expect(broadcast.stats.broadcast).toBe(keepsSmall || big.length === 0 ? null : bigLeft ? 'right' : 'left');
            expect(shuffled.stats.broadcast).toBeNull();
            expect([broadcast.stats.left.records, broadcast.stats.right.records]).toEqual([left.length, right.length]);
          }
        },
      ),
      { numRuns: 6 },
    );
    fs.rmSync(dir, { recursive: true });
  });

  it('generated sides: the smaller by count is held; a probe split that fails is retried and its rows come once', async () => {
    const N = 20_000;
    const dims = Array.from({ length: 60 }, (_, i) => ({ key: `k${i}`, name: `n${i}` }));
    const key = (r: { key: string }) => r.key;
    const want = canonical(nestedLoopJoin(fixtureRecords(0, N), dims, key, key, 'inner'));
    const options: JoinOptions = {
      left: { generate: { module: fixture('shuffle-modules.mjs'), export: 'records' }, count: N },
      right: { generate: { module: mods, export: 'dims' }, count: 60 },
      on: 'key',
      partitions: 16,
      workers: 2,
      splits: 4,
    };
    const fault = { at: 'read', split: 2, attempt: 1, after: 3000, action: 'throw' } as const;
    const { rows, stats } = await run(withFaults(options, [fault]));
    expect(canonical(rows)).toEqual(want);
    expect(stats).toMatchObject({ broadcast: 'right', rows: N, gatherRetried: 1 });
    expect(stats.left).toMatchObject({ records: N, bytesAppended: 0, splits: 4 }); // read, never stored
    const swapped = await run({ ...options, left: options.right, right: options.left, how: 'right' });
    expect(swapped.stats.broadcast).toBe('left');
    expect(canonical(swapped.rows)).toEqual(canonical(nestedLoopJoin(dims, fixtureRecords(0, N), key, key, 'right')));
  });

  it("a small side over a task's memory share is not broadcast: both sides shuffled", async () => {
    const right = Array.from({ length: 3000 }, (_, i) => ({ key: `k${i % 70}`, j: i, pad: 'x'.repeat(20) }));
    const left = { generate: { module: fixture('shuffle-modules.mjs'), export: 'records' }, count: 6000 };
    const key = (r: { key: string }) => r.key;
    // memory: 1 leaves a task 16 KiB of a build side; the right side stores about 100 KB
    const { rows, stats } = await run({ left, right: { records: right }, on: 'key', partitions: 4, workers: 2, memory: 1 });
    expect(stats.broadcast).toBeNull();
    expect(canonical(rows)).toEqual(canonical(nestedLoopJoin(fixtureRecords(0, 6000), right, key, key, 'inner')));
  });

  it('a bad record of the probe side names its file and line; skip counts it', async () => {
    const dir = tmp();
    const file = path.join(dir, 'big.ndjson');
    fs.writeFileSync(file, '{"k":"a","v":1}\n{"k":{"x":1}}\n{"k":"b"}\nnope\n');
    const options = { left: { ndjson: file }, right: { records: [{ k: 'a' }, { k: 'b' }] }, on: 'k', partitions: 2, workers: 2 };
    await expect(run(options)).rejects.toThrow(new RegExp(`^${file} line 2: record has no usable key: key field "k"`));
    const { rows, stats } = await run({ ...options, onBadRecord: 'skip' });
    expect(stats.broadcast).toBe('right');
    expect(canonical(rows)).toEqual(
      canonical([
        { key: 'a', left: { k: 'a', v: 1 }, right: { k: 'a' } },
        { key: 'b', left: { k: 'b' }, right: { k: 'b' } },
      ]),
    );
    expect([stats.left.badRecords, stats.right.badRecords]).toEqual([2, 0]);
    fs.rmSync(dir, { recursive: true });
  });
});

describe('skew and memory', () => {
  /** 60% of `n` records hold the key "hot"; the others, one of 997 keys. */
  const hot = (n: number): Rec[] => Array.from({ length: n }, (_, i) => ({ i, k: i % 10 < 6 ? 'hot' : `c${i % 997}` }));
  // the small side: keys of the big side, keys it lacks, and null keys, in every partition
  const small: Rec[] = [
    ...Array.from({ length: 300 }, (_, i) => ({ i, k: [`c${i * 2}`, `z${i}`, null][i % 3] })),
    { i: 300, k: 'hot' },
    { i: 301, k: 'hot' },
  ];

  it.each(HOWS)("a key with 60%% of the left side: its partition's rows are split across tasks (%s)", async (how) => {
    const { got, want, stats } = await both(hot(30_000), small, how, { partitions: 8, workers: 2 });
    expect(got).toEqual(want);
    expect(stats.skewed).toBeGreaterThanOrEqual(1);
    expect(stats.slices).toBeGreaterThanOrEqual(2 * stats.skewed);
  });

  it.each(HOWS)('a key with 60%% of the right side (%s)', async (how) => {
    const { got, want, stats } = await both(small, hot(30_000), how, { partitions: 8, workers: 2 });
    expect(got).toEqual(want);
    expect(stats.skewed).toBeGreaterThanOrEqual(1);
  });

  it.each(HOWS)('partitions over their memory share are split again (grace) and still join (%s)', async (how) => {
    const left = Array.from({ length: 5000 }, (_, i): Rec => ({ i, k: i % 3 === 0 ? null : `g${i % 2000}` }));
    const right = Array.from({ length: 5000 }, (_, i): Rec => ({ i, k: `g${(i * 3) % 2500}` }));
    // memory: 1 byte leaves a task its least build side, 16 KiB; each side of a partition holds about 35 KB
    const { got, want, stats } = await both(left, right, how, { partitions: 2, workers: 2, memory: 1 });
    expect(got).toEqual(want);
    expect(stats.resplits).toBeGreaterThanOrEqual(2);
  });

  it('a key too big for memory on both sides fails after the last re-split, naming it; nothing is retried or left behind', async () => {
    const many = (n: number): Rec[] => Array.from({ length: n }, (_, i) => ({ i, k: 'x' }));
    const before = liveTempDirs().length;
    const failed = run({ left: { records: many(3000) }, right: { records: many(3000) }, on: 'k', partitions: 2, workers: 2, memory: 1 });
    await expect(failed).rejects.toThrow(JoinMemoryError);
    await expect(failed).rejects.toThrow(
      /^partition \d+, sub-partition .*\(depth 4\): after 4 re-splits its left side still holds \d+ bytes \(its right side \d+\), more than a task may hold in memory \(16384 bytes: memory ÷ workers ÷ 8\); a key with that many rows on both sides \(such as "x"\) cannot be split: raise memory$/,
    );
    expect(liveTempDirs().length).toBe(before);
  });
});

describe('inputs and keys', () => {
  it('CSV against NDJSON: "1" and 1 do not match, unless types says the key is a number', async () => {
    const dir = tmp();
    const csv = path.join(dir, 'a.csv');
    const ndjson = path.join(dir, 'b.ndjson');
    fs.writeFileSync(csv, 'id,name\n' + Array.from({ length: 30 }, (_, i) => `${i},n${i}`).join('\n') + '\n');
    const right = Array.from({ length: 30 }, (_, i) => (i % 10 === 9 ? { v: i } : { id: i % 10 === 8 ? null : i + 10, v: i }));
    fs.writeFileSync(ndjson, right.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const id = (r: { id?: unknown }) => r.id;
    for (const how of HOWS) {
      const options = { left: { csv }, right: { ndjson }, on: 'id', how, partitions: 4, workers: 2 };
      const asText = Array.from({ length: 30 }, (_, i) => ({ id: String(i), name: `n${i}` }));
      expect(canonical((await run(options)).rows)).toEqual(canonical(nestedLoopJoin(asText, right, id, id, how)));
      const asNumbers = asText.map((r) => ({ ...r, id: Number(r.id) }));
      const typed = (await run({ ...options, types: { id: 'number' } })).rows;
      expect(canonical(typed)).toEqual(canonical(nestedLoopJoin(asNumbers, right, id, id, how)));
      if (how === 'inner') expect(typed).toHaveLength(16); // ids 10..29 but 18, 19, 28, 29
    }
    fs.rmSync(dir, { recursive: true });
  });

  it('generated records against NDJSON, on fields of different names ({ left, right })', async () => {
    const dir = tmp();
    const file = path.join(dir, 'r.ndjson');
    const right = Array.from({ length: 500 }, (_, i) => ({ ref: `k${i % 70}`, j: i }));
    fs.writeFileSync(file, right.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const input = { generate: { module: fixture('shuffle-modules.mjs'), export: 'records' }, count: 3000 };
    const { rows } = await run({
      left: input,
      right: { ndjson: file },
      on: { left: 'key', right: 'ref' },
      how: 'outer',
      partitions: 5,
      workers: 2,
    });
    const want = nestedLoopJoin(
      fixtureRecords(0, 3000),
      right,
      (r: { key: string }) => r.key,
      (r: { ref: string }) => r.ref,
      'outer',
    );
    expect(canonical(rows)).toEqual(canonical(want));
    fs.rmSync(dir, { recursive: true });
  });

  it('a key module for both sides; make inputs', async () => {
    const tagParity = (r: { id: number; tag: string }) => `${r.tag}:${r.id % 2}`;
    const records = (n: number) => Array.from({ length: n }, (_, i) => ({ id: i, tag: ['a', 'b', 'c'][i % 3]! }));
    const { rows } = await run({
      left: { generate: { module: mods, export: 'ids' }, count: 300 },
      right: { records: records(100) },
      on: { module: mods, export: 'tagParity' },
      partitions: 3,
      workers: 2,
    });
    expect(rows).toHaveLength((300 * 100) / 6);
    expect(canonical(rows)).toEqual(canonical(nestedLoopJoin(records(300), records(100), tagParity, tagParity, 'inner')));
  });

  it('joinToFile writes the rows as NDJSON, and only once the join has succeeded', async () => {
    const dir = tmp();
    const out = path.join(dir, 'rows.ndjson');
    const left = Array.from({ length: 2000 }, (_, i): Rec => ({ i, k: i % 7 === 0 ? null : `u${i % 150}` }));
    const right = Array.from({ length: 400 }, (_, i): Rec => ({ i, k: `u${i % 200}`, s: 'quote " and \\ and é' }));
    const stats = await joinToFile(
      { left: { records: left }, right: { records: right }, on: 'k', how: 'outer', partitions: 4, workers: 2 },
      out,
    );
    const lines = fs.readFileSync(out, 'utf8').trimEnd().split('\n');
    expect(canonical(lines.map((l) => JSON.parse(l)))).toEqual(canonical(nestedLoopJoin(left, right, k, k, 'outer')));
    expect(stats.rows).toBe(lines.length);
    expect(fs.readdirSync(dir)).toEqual(['rows.ndjson']);
    await expect(joinToFile({ left: { records: left }, right: { records: right }, on: 7 } as never, out)).rejects.toThrow(/^on: /);
    expect(fs.readdirSync(dir)).toEqual(['rows.ndjson']);
    fs.rmSync(dir, { recursive: true });
  });
});

describe('progress', () => {
  it("one scatter count over both sides (the right's after the left's), then gather units up to their total", async () => {
    const events: Progress[] = [];
    const left = { generate: { module: mods, export: 'ids' }, count: 30_000 };
    const right = { generate: { module: mods, export: 'shifted' }, count: 30_000 };
    const { stats } = await run({
      left,
      right,
      on: 'id',
      how: 'outer',
      partitions: 8,
      workers: 2,
      splits: 3,
      progress: (e) => events.push(e),
    });
    const scatter = events.filter((e) => e.phase === 'scatter');
    const gather = events.filter((e) => e.phase === 'gather');
    expect(events.indexOf(gather[0]!)).toBeGreaterThan(events.indexOf(scatter.at(-1)!)); // the gather follows both scatters
    expect(scatter.map((e) => e.records)).toEqual([...scatter.map((e) => e.records)].sort((a, b) => a - b));
    expect(scatter.at(-1)).toMatchObject({ records: 60_000, splitsDone: 6, splits: 6 });
    expect(gather.map((e) => e.partitionsDone)).toEqual(gather.map((_, i) => i + 1));
    expect(gather.every((e) => e.partitions === gather.length)).toBe(true);
    expect(stats.rows).toBe(50_000); // ids 0..29,999 and 20,000..49,999: 10,000 meet, 20,000 alone on each side
  });
});

describe('a kept store', () => {
  const N = 40_000;
  const SHIFT = 20_000;
  /** The rows of ids(0, N) joined with padded(0, N) on id, from the records' definitions. */
  function reference(how: JoinHow): string[] {
    const tag = (id: number) => ['a', 'b', 'c'][id % 3]!;
    const right = (id: number) => ({ id, w: (id - SHIFT) % 7, pad: 'p'.repeat(200) });
    const rows: unknown[] = [];
    for (let id = SHIFT; id < N; id++) rows.push({ key: id, left: { id, tag: tag(id) }, right: right(id) });
    if (how === 'left' || how === 'outer')
      for (let id = 0; id < SHIFT; id++) rows.push({ key: id, left: { id, tag: tag(id) }, right: null });
    if (how === 'right' || how === 'outer') for (let id = N; id < N + SHIFT; id++) rows.push({ key: id, left: null, right: right(id) });
    return canonical(rows);
  }

  it('resumes both sides after a failed run, counting every record once; another how reuses the scatter', async () => {
    const dir = tmp();
    const store = path.join(dir, 'store');
    const options: JoinOptions = {
      left: { generate: { module: mods, export: 'ids' }, count: N },
      right: { generate: { module: mods, export: 'padded' }, count: N },
      on: 'id',
      how: 'inner',
      partitions: 8,
      workers: 2,
      splits: 4,
      memory: 1, // each session commits every megabyte: a right split commits parts before the fault
      store,
      broadcast: false, // both sides scattered, left first
    };
    const fault = { at: 'read', split: RIGHT_SPLITS + 2, attempt: 1, after: 9000, action: 'throw' } as const;
    await expect(run(withFaults({ ...options, retries: 0 }, [fault]))).rejects.toThrow(ShuffleError);
    const second = await run(options);
    expect(canonical(second.rows)).toEqual(reference('inner'));
    expect(second.stats.left.resumed).toBe(N); // the left side was scattered whole by the failed run
    expect(second.stats.right.resumed).toBeGreaterThan(0);
    expect(second.stats.right.resumed).toBeLessThan(N);
    expect([second.stats.left.records, second.stats.right.records]).toEqual([N, N]);
    const third = await run({ ...options, how: 'outer' });
    expect(canonical(third.rows)).toEqual(reference('outer'));
    expect([third.stats.left.resumed, third.stats.right.resumed]).toEqual([N, N]);
    fs.rmSync(dir, { recursive: true });
  });
});

describe('bad options and records', () => {
  const records = { records: [{ k: 1 }] };
  const base = { left: records, right: records, on: 'k' };

  it.each([
    ['an unknown how', { ...base, how: 'full' }, RangeError, /^how: expected 'inner', 'left', 'right' or 'outer', got the string "full"$/],
    ['a number as on', { ...base, on: 5 }, TypeError, /^on: expected a field name or \{ module, export \}, got number 5$/],
    [
      'on without its right key',
      { ...base, on: { left: 'a' } },
      TypeError,
      /^on\.right: expected a field name or \{ module, export \}, got undefined$/,
    ],
    [
      'on with a third key',
      { ...base, on: { left: 'a', right: 'b', both: 'c' } },
      RangeError,
      /^on: unknown option "both" \(known: left, right\)$/,
    ],
    [
      'input instead of left and right',
      { ...base, input: records },
      RangeError,
      /^options: unknown option "input" \(known: left, right, on, how, /,
    ],
    [
      'a missing left file',
      { ...base, left: { ndjson: '/nonexistent.ndjson' } },
      Error,
      /^left: file "\/nonexistent\.ndjson" does not exist$/,
    ],
    [
      'a right module without the export',
      { ...base, right: { generate: { module: mods, export: 'nope' }, count: 5 } },
      Error,
      /^right\.generate: module .* has no export "nope"$/,
    ],
    ['partitions: 0', { ...base, partitions: 0 }, RangeError, /^partitions: expected a positive integer, got number 0$/],
    [
      'a key field named __proto__ (stored records name it __proto_: no row would match)',
      { ...base, on: { left: 'k', right: 'a.__proto__' } },
      RangeError,
      /^on\.right: a join key field named __proto__ is not supported/,
    ],
  ])('%s is refused before any work', async (_, options, kind, message) => {
    const failed = run(options as JoinOptions);
    await expect(failed).rejects.toThrow(kind);
    await expect(failed).rejects.toThrow(message);
  });

  it('a CSV key column missing from a side names that side and its key option', async () => {
    const dir = tmp();
    const csv = path.join(dir, 'h.csv');
    fs.writeFileSync(csv, 'a,b\n1,2\n');
    await expect(run({ left: records, right: { csv }, on: { left: 'k', right: 'id' } })).rejects.toThrow(
      new RegExp(`^on\\.right: column "id" is not in the header of ${csv} \\(its columns: a, b\\)$`),
    );
    fs.rmSync(dir, { recursive: true });
  });

  it('a bad record names its file and line; onBadRecord: skip counts it on its side', async () => {
    const dir = tmp();
    const file = path.join(dir, 'b.ndjson');
    fs.writeFileSync(file, '{"k":1,"v":1}\nnot json\n{"k":true}\n{"k":2}\n');
    const options = { left: { records: [{ k: 1 }, { k: 2 }] }, right: { ndjson: file }, on: 'k', partitions: 2, workers: 1 };
    await expect(run(options)).rejects.toThrow(BadRecordError);
    await expect(run(options)).rejects.toThrow(new RegExp(`^${file} line 2: not JSON`));
    const { rows, stats } = await run({ ...options, onBadRecord: 'skip' });
    expect(canonical(rows)).toEqual(
      canonical([
        { key: 1, left: { k: 1 }, right: { k: 1, v: 1 } },
        { key: 2, left: { k: 2 }, right: { k: 2 } },
      ]),
    );
    expect([stats.left.badRecords, stats.right.badRecords]).toEqual([0, 2]); // not JSON, and a boolean key
  });

  it('a right records item that cannot be sent is named by its place in the right input', async () => {
    const right = { records: [{ k: 1 }, { k: 2, f: () => 1 }] };
    await expect(run({ left: records, right, on: 'k', workers: 1 })).rejects.toThrow(
      /^right\.records item 1: cannot be sent to a worker thread/,
    );
  });
});
