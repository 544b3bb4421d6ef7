/**
 * `sort` equals a stable `Array.prototype.sort` of its input under a reference comparator
 * written apart from src/shuffle/sort/order.ts (strings by their UTF-8 bytes, which is the
 * code point order), on random inputs of every key type and input kind, P = 1, 7 and 128,
 * descending, many equal keys, data over the memory budget, a resumed job; bad keys are named
 * by file and line.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import fs from 'node:fs';
import path from 'node:path';
import { BadRecordError, Lmdb, sort, sortToFile, type SortOptions, type SortStats } from '../src/index.js';
import { unframe } from '../src/layers/frames.js';
import { withFaults } from '../src/shuffle/runtime/faults.js';
import { framer } from '../src/shuffle/scatter/outbox.js';
import { readBlock } from '../src/shuffle/sort/block.js';
import { FAN_IN } from '../src/shuffle/sort/partition.js';
import { liveTempDirs } from '../src/stores/temp.js';
import { mixedRecord, SORT_RECORDS, typeThenId } from './support/sort-records.js';
import { tempDirs } from './support/temp-dirs.js';

type Key = number | string | (number | string)[];
type Rec = { id: number; k: Key };

const tmp = tempDirs('partd-sort-');

/** The reference order: numbers before strings, numbers by value, strings by UTF-8 bytes, tuples element-wise, a prefix first; a scalar is a 1-tuple. */
function refCompare(a: Key, b: Key): number {
  const x = Array.isArray(a) ? a : [a];
  const y = Array.isArray(b) ? b : [b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const u = x[i]!;
    const v = y[i]!;
    if (typeof u !== typeof v) return typeof u === 'number' ? -1 : 1;
    const c =
      typeof u === 'number' ? Math.sign(u - (v as number)) : Buffer.compare(Buffer.from(u, 'utf8'), Buffer.from(v as string, 'utf8'));
    if (c !== 0) return c;
  }
  return Math.sign(x.length - y.length);
}

/** A stable sort of the input (Array.prototype.sort is stable): ties keep input order, descending too. */
function reference<T>(records: T[], keyOf: (r: T) => Key, descending = false): T[] {
  const d = descending ? -1 : 1;
  return records.slice().sort((a, b) => d * refCompare(keyOf(a), keyOf(b)));
}

async function sorted<T>(options: SortOptions<T>): Promise<{ out: T[]; stats: SortStats }> {
  let stats: SortStats | undefined;
  const out: T[] = [];
  for await (const r of sort(options, (s) => (stats = s))) out.push(r);
  return { out, stats: stats! };
}

const ids = (rs: { id: number }[]) => rs.map((r) => r.id);

/** `out` is `want`, record for record (compared as JSON: jest's deep equality of 60k records takes seconds); a failure shows where they part. */
function expectSame(out: unknown[], want: unknown[]): void {
  const a = out.map((r) => JSON.stringify(r));
  const b = want.map((r) => JSON.stringify(r));
  const at = a.findIndex((x, i) => x !== b[i]);
  expect({ length: a.length, firstDifference: at, around: at < 0 ? [] : a.slice(Math.max(0, at - 2), at + 3) }).toEqual({
    length: b.length,
    firstDifference: a.length === b.length ? -1 : Math.min(a.length, b.length),
    around: at < 0 ? [] : b.slice(Math.max(0, at - 2), at + 3),
  });
}

// Keys around the traps: astral characters (surrogate pairs) against U+E000..U+FFFF, where
// UTF-16 order and code point order disagree; numbers with many repeats; tuples of both.
const trap = fc.constantFrom('a', 'b', 'é', '\uD7FF', '\uE000', '\uFFFF', '\u{10000}', '\u{1F600}', '\u{10FFFF}', 'z');
const str = fc.oneof(fc.string({ unit: trap, maxLength: 4 }), fc.string({ unit: 'binary', maxLength: 6 }));
const num = fc.oneof(
  fc.integer({ min: -3, max: 3 }),
  fc.double({ noNaN: true, min: -1e9, max: 1e9 }).map((x) => (x === 0 ? 0 : x)), // -0 is stored as 0
);
const tuple = fc.array(fc.oneof(num, str), { minLength: 1, maxLength: 3 });
const KEYS: Record<string, fc.Arbitrary<Key>> = { number: num, string: str, tuple, mixed: fc.oneof(num, str, tuple) };
const shape = fc.record({ partitions: fc.constantFrom(1, 7, 128), descending: fc.boolean() });
const recordsOf = (keys: Key[]): Rec[] => keys.map((k, id) => ({ id, k }));

describe('sort equals a stable Array.prototype.sort (fast-check)', () => {
  it.each(Object.keys(KEYS))('records input, %s keys', async (type) => {
    await fc.assert(
      fc.asyncProperty(fc.array(KEYS[type]!, { maxLength: 300 }), shape, async (keys, { partitions, descending }) => {
        const records = recordsOf(keys);
        const { out, stats } = await sorted({ input: { records }, key: 'k', partitions, workers: 2, descending });
        expect(out).toEqual(reference(records, (r) => r.k, descending));
        expect(stats.records).toBe(records.length);
      }),
      { numRuns: 4 },
    );
  });

  it.each(['string', 'mixed'])('NDJSON input in 3 splits, %s keys', async (type) => {
    const dir = tmp();
    await fc.assert(
      fc.asyncProperty(fc.array(KEYS[type]!, { maxLength: 300 }), shape, async (keys, { partitions, descending }) => {
        const records = recordsOf(keys);
        const file = path.join(dir, 'in.ndjson');
        fs.writeFileSync(file, records.map((r) => JSON.stringify(r) + '\n').join(''));
        const { out } = await sorted<Rec>({ input: { ndjson: file }, key: 'k', partitions, workers: 2, splits: 3, descending });
        expect(ids(out)).toEqual(ids(reference(records, (r) => r.k, descending)));
      }),
      { numRuns: 4 },
    );
  });

  it.each([
    ['number', fc.integer({ min: -1000, max: 1000 })],
    ['string', str],
  ] as const)('CSV input in 3 splits, %s keys (a declared column type)', async (type, arb) => {
    const dir = tmp();
    await fc.assert(
      fc.asyncProperty(fc.array(arb as fc.Arbitrary<Key>, { maxLength: 300 }), shape, async (keys, { partitions, descending }) => {
        const records = recordsOf(keys);
        const file = path.join(dir, 'in.csv');
        const field = (k: Key) => (typeof k === 'number' ? String(k) : `"${String(k).replaceAll('"', '""')}"`);
        fs.writeFileSync(file, 'id,k\n' + records.map((r) => `${r.id},${field(r.k)}\n`).join(''));
        const input = { csv: file };
        const { out } = await sorted<Rec>({ input, key: 'k', types: { k: type }, partitions, workers: 2, splits: 3, descending });
        expect(ids(out)).toEqual(ids(reference(records, (r) => r.k, descending)));
      }),
      { numRuns: 3 },
    );
  });
});

describe('sort of records made in the workers', () => {
  const N = 20_000;
  const all = Array.from({ length: N }, (_, i) => mixedRecord(i));

  it.each([
    ['generate', 7, false],
    ['make', 128, true],
  ] as const)('%s input, P = %i, descending %s: every key type, mixed', async (kind, partitions, descending) => {
    const input =
      kind === 'generate'
        ? { generate: { module: SORT_RECORDS, export: 'mixed' }, count: N }
        : { make: { module: SORT_RECORDS, export: 'mixedRecord' }, count: N };
    const { out, stats } = await sorted<Rec>({ input, key: 'k', partitions, workers: 2, splits: 5, descending });
    expectSame(
      out,
      reference(all, (r) => r.k, descending),
    );
    expect(stats).toMatchObject({ records: N, badRecords: 0, runs: 0 });
    expect(stats.sampled).toBeGreaterThan(1000);
  });

  it('a key module returning tuples, descending: ties (many) keep input order', async () => {
    const input = { generate: { module: SORT_RECORDS, export: 'mixed' }, count: N };
    const key = { module: SORT_RECORDS, export: 'typeThenId' };
    const { out } = await sorted<Rec>({ input, key, partitions: 7, workers: 2, splits: 4, descending: true });
    expectSame(ids(out), ids(reference(all, (r) => typeThenId(r) as Key, true)));
  });
});

/** What each partition of a kept sort store holds: its blocks' `[ordinal, record]` pairs. */
async function keptPartitions<R>(store: string, P: number): Promise<[number, R][][]> {
  const kept = new Lmdb(store, { readOnly: true });
  try {
    const parts = await Promise.all(Array.from({ length: P }, (_, p) => kept.get(p)));
    return parts.map((bytes, p) =>
      unframe(bytes, `key ${p}`).flatMap((payload) => {
        const block = readBlock(payload, `key ${p}`);
        const records = framer.decode(block.records) as R[];
        return records.map((r, i): [number, R] => [block.ords[i]!, r]);
      }),
    );
  } finally {
    await kept.close();
  }
}

describe('balanced partitions', () => {
  it('a key held by 80% of the records is cut across partitions; the order stays stable across batches', async () => {
    const N = 25_000; // three records batches
    const P = 8;
    const records = Array.from({ length: N }, (_, id) => ({ id, k: id % 5 === 0 ? (id % 3) + 1 : 0 }));
    const store = path.join(tmp(), 'kept');
    const { out } = await sorted({ input: { records }, key: 'k', partitions: P, workers: 2, store });
    expectSame(ids(out), ids(reference(records, (r) => r.k)));
    const parts = await keptPartitions<{ id: number; k: number }>(store, P);
    const sizes = parts.map((p) => p.length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(N);
    expect(Math.max(...sizes)).toBeLessThan((2 * N) / P); // balanced within 2x: no partition takes the heavy key alone
    expect(parts.filter((p) => p.some(([, r]) => r.k === 0)).length).toBeGreaterThanOrEqual(P / 2);
  });

  it('a generate input, sampled in windows of its splits: no partition holds twice its share', async () => {
    const N = 40_000;
    const P = 16;
    const store = path.join(tmp(), 'kept');
    const input = { generate: { module: SORT_RECORDS, export: 'mixed' }, count: N };
    await sorted({ input, key: 'k', partitions: P, workers: 2, splits: 8, store });
    const sizes = (await keptPartitions(store, P)).map((p) => p.length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(N);
    expect(Math.max(...sizes)).toBeLessThan((2 * N) / P);
  });
});

describe('data over the memory budget: runs spilled and merged', () => {
  const made = (n: number) => ({
    input: { generate: { module: SORT_RECORDS, export: 'mixed' }, count: n },
    all: Array.from({ length: n }, (_, i) => mixedRecord(i)),
  });

  it.each([
    [1, 100_000],
    [7, 50_000],
  ])(
    'memory: 1, P = %i, %i records: each partition sorts in runs (more than the merge fan-in for P = 1), exactly',
    async (partitions, n) => {
      const { input, all } = made(n);
      const { out, stats } = await sorted<Rec>({ input, key: 'k', partitions, workers: 2, splits: 4, memory: 1 });
      expectSame(
        out,
        reference(all, (r) => r.k),
      );
      expect(stats.runs).toBeGreaterThan(partitions === 1 ? FAN_IN : 2 * partitions - 1);
    },
  );

  it('sortToFile writes the same order as NDJSON lines, from files the workers wrote; only once the sort has succeeded', async () => {
    const { input, all } = made(30_000);
    const file = path.join(tmp(), 'sorted.ndjson');
    const stats = await sortToFile({ input, key: 'k', partitions: 3, workers: 2, memory: 1, descending: true }, file);
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    expectSame(
      lines,
      reference(all, (r) => r.k, true).map((r) => JSON.stringify(r)),
    );
    expect(stats.records).toBe(all.length);
    expect(stats.runs).toBeGreaterThan(3);
    // a sort that fails in its last partition's gather leaves the file as it was, and nothing beside it
    const before = fs.readFileSync(file);
    const fault = { at: 'gather', partition: 2, attempt: 1, after: 0, action: 'throw' } as const;
    const failing = withFaults({ input, key: 'k', partitions: 3, workers: 2, memory: 1, retries: 0 }, [fault]);
    await expect(sortToFile(failing, file)).rejects.toThrow(/partition 2/);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['sorted.ndjson']);
  });
});

describe('a kept store', () => {
  it('a sort that failed halfway resumes on its store: its splitters kept, committed parts not read again, the order exact', async () => {
    const N = 200_000;
    const store = path.join(tmp(), 'kept');
    const options = {
      input: { generate: { module: SORT_RECORDS, export: 'mixed' }, count: N },
      key: 'k',
      partitions: 7,
      workers: 2,
      splits: 4,
      memory: 2 << 20, // a session commits every 1 MiB (some 45k records): before split 3 fails, whichever split it read first
      store,
    };
    const fault = withFaults({ ...options, retries: 0 }, [{ at: 'read', split: 3, attempt: 1, after: 40_000, action: 'throw' }]);
    await expect(sorted(fault)).rejects.toThrow(/^split 3 \(records 150000\.\.200000\) failed after 1 attempt/);
    const { out, stats } = await sorted<Rec>(options);
    expect(stats.resumed).toBeGreaterThan(0);
    expect(stats.sampled).toBe(0); // the splitters of the first run
    expectSame(
      out,
      reference(
        Array.from({ length: N }, (_, i) => mixedRecord(i)),
        (r) => r.k,
      ),
    );
  });
});

describe('stopping', () => {
  const input = { generate: { module: SORT_RECORDS, export: 'mixed' }, count: 50_000 };
  const sortDirs = () => liveTempDirs().filter((d) => path.basename(d).startsWith('partd-sort-'));

  it('a consumer that stops early leaves no spill directory or temporary store behind', async () => {
    const before = liveTempDirs().length;
    let seen = 0;
    for await (const _ of sort({ input, key: 'k', partitions: 16, workers: 2, memory: 1 })) if (++seen === 10) break;
    expect(seen).toBe(10);
    expect(sortDirs()).toEqual([]);
    expect(liveTempDirs()).toHaveLength(before);
  });

  it('an abort rejects with the AbortError and cleans up the same', async () => {
    const controller = new AbortController();
    let seen = 0;
    const run = async () => {
      for await (const _ of sort({ input, key: 'k', partitions: 16, workers: 2, signal: controller.signal }))
        if (++seen === 5) controller.abort();
    };
    await expect(run()).rejects.toMatchObject({ name: 'AbortError' });
    expect(sortDirs()).toEqual([]);
  });
});

describe('bad keys', () => {
  const lines = [
    { id: 0, k: 1 },
    { id: 1, k: null },
    { id: 2, k: true },
    { id: 3, k: { a: 1 } },
    { id: 4, k: [] },
    { id: 5, k: [1, [2]] },
    { id: 6, k: 'ok' },
    { id: 7 },
    { id: 8, k: 2 ** 60 },
  ];
  const file = () => {
    const f = path.join(tmp(), 'bad.ndjson');
    // a lone surrogate, escaped in JSON: no code point order
    fs.writeFileSync(f, lines.map((l) => JSON.stringify(l)).join('\n') + '\n{"id":9,"k":"\\ud800x"}\n');
    return f;
  };

  it.each([
    [2, 'key field "k": expected a string, a finite number or an array of them, got null'],
    [3, 'got boolean true'],
    [4, 'got an object (Object)'],
    [5, 'key field "k": an empty array is not a sort key'],
    [6, 'key field "k": element 1 of an array of length 2: expected a string or a finite number, got an array of length 1'],
    [8, 'got nothing (the field is missing)'],
    [9, 'is beyond ±(2^53 − 1)'],
    [10, 'key field "k": the string "\\ud800x" holds an unpaired surrogate'],
  ])('line %i is a bad record naming its file and line', async (line, why) => {
    const f = file();
    // only that line is bad: the ones before it are made good
    const text = fs.readFileSync(f, 'utf8').split('\n');
    fs.writeFileSync(f, text.map((l, i) => (i + 1 < line ? JSON.stringify({ id: i, k: i }) : l)).join('\n'));
    const error = await sorted({ input: { ndjson: f }, key: 'k', partitions: 3, workers: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRecordError);
    expect((error as Error).message).toContain(`${f} line ${line}: `);
    expect((error as Error).message).toContain(why);
  });

  it("onBadRecord: 'skip' leaves them out, counted", async () => {
    const { out, stats } = await sorted<Rec>({ input: { ndjson: file() }, key: 'k', partitions: 3, workers: 1, onBadRecord: 'skip' });
    expect(ids(out)).toEqual([0, 6]);
    expect(stats.badRecords).toBe(8);
  });

  it('descending must be a boolean; unknown options are named', async () => {
    await expect(sorted({ input: { records: [] }, key: 'k', descending: 'yes' as never })).rejects.toThrow(
      'descending: expected a boolean, got the string "yes"',
    );
    await expect(sorted({ input: { records: [] }, key: 'k', desc: true } as never)).rejects.toThrow(
      /^options: unknown option "desc" \(known: .*descending\)$/,
    );
  });
});
