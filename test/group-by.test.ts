/** groupBy equals a reference fold for every aggregation; bad input and failures are clear. */
import { describe, expect, it } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BadRecordError, ShuffleError, groupBy, iterateGroups, shuffle, type Aggregation } from '../src/index.js';
import { fixture, runNode } from './support/child.js';
import { fixtureRecords } from './support/reference.js';
import { tempDirs } from './support/temp-dirs.js';

const mods = fixture('shuffle-modules.mjs');
const tmp = tempDirs('partd-group-');
const gen = (count: number) => ({ generate: { module: mods, export: 'records' }, count });

/** The reference: a fold in input order. */
function fold(records: ReturnType<typeof fixtureRecords>) {
  const groups = new Map<string, ReturnType<typeof fixtureRecords>>();
  for (const r of records) groups.set(r.key, [...(groups.get(r.key) ?? []), r]);
  return new Map(
    [...groups].map(([key, rs]) => {
      const amounts = rs.map((r) => r.amount);
      return [
        key,
        {
          key,
          n: rs.length,
          total: amounts.reduce((a, b) => a + b, 0),
          lo: Math.min(...amounts),
          hi: Math.max(...amounts),
          avg: amounts.reduce((a, b) => a + b, 0) / rs.length,
          firstId: rs[0]!.id,
          lastId: rs[rs.length - 1]!.id,
          tags: rs.map((r) => r.tag),
          tagSet: [...new Set(rs.map((r) => r.tag))].sort(),
          squares: amounts.reduce((a, b) => a + b * b, 0),
        },
      ];
    }),
  );
}

const builtins: Record<string, Aggregation> = {
  n: { op: 'count' },
  total: { op: 'sum', field: 'amount' },
  lo: { op: 'min', field: 'amount' },
  hi: { op: 'max', field: 'amount' },
  avg: { op: 'mean', field: 'amount' },
  firstId: { op: 'first', field: 'id' },
  lastId: { op: 'last', field: 'id' },
  tags: { op: 'collect', field: 'tag' },
  tagSet: { op: 'custom', field: 'tag', reducer: { module: mods, export: 'tagSet' } },
};

describe('groupBy', () => {
  const N = 30_000;
  const expected = fold(fixtureRecords(0, N));

  // with several splits a session reads splits 0, 2, 5…: first, last and collect must still follow input order
  it.each([
    [1, 1],
    [2, 1],
    [2, 8],
  ])('every built-in aggregation and a mergeable custom one equal the reference fold (workers=%i, splits=%i)', async (workers, splits) => {
    const groups = await groupBy({ input: gen(N), key: 'key', partitions: 4, workers, splits, aggregate: builtins });
    expect(groups.size).toBe(expected.size);
    for (const [key, want] of expected) {
      const { squares: _s, ...rest } = want;
      const got = groups.get(key)!;
      expect({ ...got, avg: undefined }).toEqual({ ...rest, avg: undefined });
      expect(got.avg).toBeCloseTo(want.avg, 9);
    }
    expect(groups.stats?.records).toBe(N);
  });

  it('collect, first and last follow input order when each worker reads several splits (0, 2, 5…)', async () => {
    const n = 20_000;
    const input = { generate: { module: mods, export: 'thirds' }, count: n };
    const aggregate = { c: { op: 'collect', field: 'i' }, f: { op: 'first', field: 'i' }, l: { op: 'last', field: 'i' } } as const;
    for (const partitions of [1, 4]) {
      const groups = await groupBy({ input, key: 'key', splits: 8, workers: 2, partitions, aggregate });
      for (let k = 0; k < 3; k++) {
        const want = Array.from({ length: n }, (_, i) => i).filter((i) => i % 3 === k);
        expect(groups.get(`k${k}`)).toEqual({ key: `k${k}`, c: want, f: want[0], l: want.at(-1) });
      }
    }
  });

  it('a custom reducer without merge runs without map-side combine, in the workers', async () => {
    const groups = await groupBy({
      input: gen(N),
      key: 'key',
      partitions: 4,
      workers: 2,
      aggregate: {
        squares: { op: 'custom', field: 'amount', reducer: { module: mods, export: 'sumSquares' } },
        lastId: { op: 'last', field: 'id' },
        tags: { op: 'collect', field: 'tag' },
      },
    });
    for (const [key, want] of expected)
      expect(groups.get(key)).toEqual({ key, squares: want.squares, lastId: want.lastId, tags: want.tags });
  });

  it('streams groups as an async iterable', async () => {
    let n = 0;
    for await (const [key, row] of iterateGroups({
      input: gen(N),
      key: 'key',
      partitions: 5,
      workers: 2,
      aggregate: { n: { op: 'count' } },
    })) {
      expect(row.n).toBe(expected.get(key as string)!.n);
      n++;
    }
    expect(n).toBe(expected.size);
  });

  it('a session keeps its groups across the splits it reads: 20 splits append what 1 split does', async () => {
    const appended = async (splits: number) => {
      const g = await groupBy({
        input: gen(20_000),
        splits,
        key: 'key',
        partitions: 4,
        workers: 1,
        aggregate: { n: { op: 'count' }, total: { op: 'sum', field: 'amount' } },
      });
      expect(g.size).toBe(50);
      return g.stats!.bytesAppended;
    };
    expect(await appended(20)).toBe(await appended(1));
  });

  it('reports progress for both phases', async () => {
    const events: string[] = [];
    await groupBy({
      input: gen(5000),
      key: 'key',
      partitions: 3,
      workers: 2,
      aggregate: { n: { op: 'count' } },
      progress: (p) => events.push(p.phase),
    });
    expect(events.filter((e) => e === 'scatter').length).toBeGreaterThan(0);
    expect(events.filter((e) => e === 'gather')).toHaveLength(3);
  });
});

describe('bad input and failures', () => {
  const base = { input: gen(100), key: 'key', aggregate: { n: { op: 'count' } } } as const;
  it.each([
    ['partitions 0', { partitions: 0 }, /partitions: expected a positive integer/],
    ['partitions 1.5', { partitions: 1.5 }, /partitions/],
    ['workers -1', { workers: -1 }, /workers/],
    ['workers "2"', { workers: '2' }, /workers/],
    ['memory 0', { memory: 0 }, /memory/],
    ['missing file', { input: { ndjson: '/nonexistent/x.ndjson' } }, /does not exist/],
    ['missing module', { input: { generate: { module: '/nonexistent/gen.mjs' }, count: 5 } }, /input.generate: module .* does not exist/],
    ['missing export', { input: { generate: { module: mods, export: 'nope' }, count: 5 } }, /has no export "nope"/],
    ['bad key', { key: 42 }, /key: expected a field name/],
    ['bad onBadRecord', { onBadRecord: 'ignore' }, /onBadRecord/],
    ['unknown op', { aggregate: { x: { op: 'median', field: 'a' } } }, /aggregate.x.op/],
    ['sum without field', { aggregate: { x: { op: 'sum' } } }, /needs a field/],
    ['no aggregations', { aggregate: {} }, /no aggregations/],
    ['no input', { input: undefined }, /input/],
    [
      'a custom reducer that is not one',
      { aggregate: { x: { op: 'custom', reducer: { module: mods, export: 'notAFunction' } } } },
      /aggregate.x.reducer: export "notAFunction" of module ".*shuffle-modules.mjs" is a number, not a function or an object/,
    ],
    [
      'a custom reducer without add',
      { aggregate: { x: { op: 'custom', reducer: { module: mods, export: 'tagParity' } } } },
      /is not a reducer: init and add must be functions/,
    ],
  ])('%s is refused before any work', async (_, patch, message) => {
    await expect(groupBy({ ...base, ...patch } as never)).rejects.toThrow(message);
  });

  it('a malformed NDJSON line names the file and line, or is skipped and counted', async () => {
    const file = path.join(tmp(), 'bad.ndjson');
    fs.writeFileSync(file, '{"key":"a","v":1}\n{"key":"b","v":2}\n{"key": oops}\n{"v":3}\n{"key":"a","v":4}\n');
    const opts = { input: { ndjson: file }, key: 'key', workers: 1, aggregate: { n: { op: 'count' } } } as const;
    await expect(groupBy(opts)).rejects.toThrow(BadRecordError);
    await expect(groupBy(opts)).rejects.toThrow(`${file} line 3: not JSON`);
    const skipped = await groupBy({ ...opts, onBadRecord: 'skip' });
    expect(skipped.stats?.badRecords).toBe(2); // the bad line and the record without a key
    expect(Object.fromEntries([...skipped].map(([k, r]) => [k, r.n]))).toEqual({ a: 2, b: 1 });
    fs.writeFileSync(file, '{"key":"a"}\n{"nokey":1}\n');
    await expect(groupBy(opts)).rejects.toThrow(`${file} line 2: record has no usable key`);
  });

  it('a key function that throws, or a value a numeric aggregation cannot take, is a bad record: reported, or skipped and counted', async () => {
    const N = 2000;
    const key = { module: mods, export: 'throwingKey' };
    const all = fixtureRecords(0, N);
    const kept = all.filter((r) => r.id % 10 !== 3);
    const expected = new Map([...fold(kept)].map(([k, g]) => [k, { key: k, n: g.n, total: g.total }]));
    const aggregate = { n: builtins.n!, total: builtins.total! };
    await expect(groupBy({ input: gen(N), key, workers: 2, aggregate })).rejects.toThrow(
      /record 3: the key function threw: no key for id 3$/,
    );
    const skipped = await groupBy({ input: gen(N), key, workers: 2, aggregate, onBadRecord: 'skip' });
    expect(skipped.stats?.badRecords).toBe(all.length - kept.length);
    expect(new Map([...skipped].map(([k, r]) => [k, { ...r }]))).toEqual(expected);
    // values made in code are checked too: the tag is a string, so summing it is a bad record
    await expect(groupBy({ input: gen(N), key: 'key', workers: 1, aggregate: { s: { op: 'sum', field: 'tag' } } })).rejects.toThrow(
      /record 0: field "tag": sum takes finite numbers, got the string "a"$/,
    );
    const strings = await groupBy({
      input: gen(N),
      key: 'key',
      workers: 1,
      types: { tag: 'string' },
      aggregate: { lo: { op: 'min', field: 'tag' }, hi: { op: 'max', field: 'tag' } },
    });
    for (const [k, g] of fold(all)) expect(strings.get(k)).toEqual({ key: k, lo: g.tagSet[0], hi: g.tagSet.at(-1) });
  });

  it('a record MessagePack cannot store is a bad record: reported with its split and position, or skipped and counted', async () => {
    const N = 30_000;
    const input = { generate: { module: mods, export: 'unstorable' }, count: N };
    await expect(shuffle({ input, key: 'key', workers: 2, splits: 3 })).rejects.toThrow(
      /^split \d \(records \d+\.\.\d+\) record 7: the record cannot be stored \(MessagePack: .*too large/,
    );
    await using h = await shuffle<{ id: number }>({ input, key: 'key', workers: 2, splits: 3, partitions: 4, onBadRecord: 'skip' });
    expect(h.stats.badRecords).toBe(N / 100);
    expect(h.stats.records).toBe(N - N / 100);
    const ids = (await Promise.all([0, 1, 2, 3].map((p) => h.get(p))))
      .flat()
      .map((r) => r.id)
      .sort((a, b) => a - b);
    expect(ids).toEqual(
      fixtureRecords(0, N)
        .map((r) => r.id)
        .filter((id) => id % 100 !== 7),
    );
  });

  it('a key with an unpaired surrogate is a bad record in groupBy (combined or not) and shuffle, never merged with another as U+FFFD', async () => {
    const N = 20_000;
    const input = { generate: { module: mods, export: 'halves' }, count: N };
    const why = /^split \d \(records \d+\.\.\d+\) record \d+: key field "key": the string "\\ud83[de]" holds an unpaired surrogate/;
    const jobs = [
      { aggregate: { n: { op: 'count' } }, value: () => 1 }, // combined in the scatter
      { aggregate: { n: { op: 'custom', reducer: { module: mods, export: 'sumSquares' }, field: 'amount' } }, value: (a: number) => a * a }, // no merge: records shuffled
    ] as const;
    for (const { aggregate, value } of jobs) {
      await expect(groupBy({ input, key: 'key', workers: 2, splits: 3, aggregate })).rejects.toThrow(why);
      const g = await groupBy({ input, key: 'key', workers: 2, splits: 3, aggregate, onBadRecord: 'skip' });
      expect(g.stats?.badRecords).toBe(N / 100);
      const want = new Map<string, number>();
      for (const r of fixtureRecords(0, N)) if (r.id % 100 !== 7) want.set(r.key, (want.get(r.key) ?? 0) + value(r.amount));
      expect(new Map([...g].map(([k, row]) => [k, row.n]))).toEqual(want);
    }
    await expect(shuffle({ input, key: 'key', workers: 2, splits: 3 })).rejects.toThrow(why);
    await using h = await shuffle({ input, key: 'key', workers: 2, splits: 3, partitions: 4, onBadRecord: 'skip' });
    expect(h.stats.badRecords).toBe(N / 100);
  });

  it('a value first, last or collect keeps that MessagePack cannot store is a bad record of its own, named or skipped and counted', async () => {
    const N = 3_000;
    const input = { generate: { module: mods, export: 'unstorable' }, count: N }; // id % 100 === 7: big is 2n ** 70n
    for (const op of ['first', 'last', 'collect'] as const) {
      const aggregate = { kept: { op, field: 'big' }, n: { op: 'count' } } as const;
      await expect(groupBy({ input, key: 'key', workers: 2, splits: 3, aggregate })).rejects.toThrow(
        new RegExp(
          `^split \\d \\(records \\d+\\.\\.\\d+\\) record \\d+: field "big": ${op} keeps its values, and MessagePack cannot store this one`,
        ),
      );
      const g = await groupBy({ input, key: 'key', workers: 2, splits: 3, aggregate, onBadRecord: 'skip' });
      expect(g.stats?.badRecords).toBe(N / 100);
      const want = new Map<string, number>();
      for (const r of fixtureRecords(0, N)) if (r.id % 100 !== 7) want.set(r.key, (want.get(r.key) ?? 0) + 1);
      expect(new Map([...g].map(([k, row]) => [k, row.n]))).toEqual(want);
      for (const row of g.values()) expect(row.kept).toEqual(op === 'collect' ? Array.from({ length: row.n as number }, () => null) : null);
    }
  });

  it('a bad CSV row names the file and line', async () => {
    const file = path.join(tmp(), 'bad.csv');
    fs.writeFileSync(file, 'key,v\na,1\nb,2,3\nc,4\n');
    const opts = { input: { csv: file }, key: 'key', workers: 1, aggregate: { n: { op: 'count' } } } as const;
    await expect(groupBy(opts)).rejects.toThrow(new RegExp(`${file} line 3`));
    const skipped = await groupBy({ ...opts, onBadRecord: 'skip' });
    expect(skipped.stats?.badRecords).toBe(1);
    expect([...skipped.keys()].sort()).toEqual(['a', 'c']);
    // a record without its key, after a field with a newline in it: the line where it starts
    fs.writeFileSync(file, 'key,v\n"multi\nline",1\nb,2\nc,3\n');
    await expect(groupBy({ ...opts, key: { module: mods, export: 'keyUnlessV3' } })).rejects.toThrow(
      `${file} line 5: the key function returned no usable key`,
    );
  });

  it('a program may name its own entry module (import.meta.url): checked in a fresh thread, not awaited on itself', async () => {
    const script = path.join(tmp(), 'self.mjs');
    fs.writeFileSync(
      script,
      `import { isMainThread } from 'node:worker_threads';
import { groupBy } from ${JSON.stringify(path.resolve('dist/src/index.js'))};
export const make = (i) => ({ key: 'k' + (i % 3) });
export const tally = { init: () => 0, add: (s) => s + 1, merge: (a, b) => a + b };
if (isMainThread) {
  const input = { make: { module: import.meta.url, export: process.argv[2] }, count: 300 };
  const n = process.argv[3] === 'custom' ? { op: 'custom', reducer: { module: import.meta.url, export: 'tally' } } : { op: 'count' };
  try {
    const g = await groupBy({ input, key: 'key', workers: 2, aggregate: { n } });
    console.log([...g.values()].map((r) => r.key + '=' + r.n).sort().join(' '));
  } catch (e) { console.log('error: ' + e.message); }
}
`,
    );
    expect((await runNode(script, ['make'])).stdout.trim()).toBe('k0=100 k1=100 k2=100');
    expect((await runNode(script, ['make', 'custom'])).stdout.trim()).toBe('k0=100 k1=100 k2=100'); // a custom reducer there too
    expect((await runNode(script, ['nope'])).stdout.trim()).toMatch(/^error: input.make: module ".*self.mjs" has no export "nope"$/);
    const link = path.join(tmp(), 'link.mjs'); // run through a symlink: Node runs the real path, and so must the check
    fs.symlinkSync(script, link);
    expect((await runNode(link, ['make'])).stdout.trim()).toBe('k0=100 k1=100 k2=100');
  });

  it('a worker that throws rejects with its message and split, and removes the temporary store', async () => {
    // this process's temporary stores, by their owner notes: other test files' come and go meanwhile
    const ours = () =>
      fs.readdirSync(os.tmpdir()).filter((d) => {
        if (!d.startsWith('partd-lmdb-')) return false;
        try {
          return (JSON.parse(fs.readFileSync(path.join(os.tmpdir(), d, '.partd-owner'), 'utf8')) as { pid: number }).pid === process.pid;
        } catch {
          return false;
        }
      });
    const before = ours();
    const failing = shuffle({ input: { generate: { module: mods, export: 'explodes' }, count: 5000 }, key: 'key', workers: 2 });
    await expect(failing).rejects.toThrow(ShuffleError);
    await expect(
      shuffle({ input: { generate: { module: mods, export: 'explodes' }, count: 5000 }, key: 'key', workers: 2 }),
    ).rejects.toThrow(
      /^split \d+ \(records \d+\.\.\d+\) failed after 3 attempts \(attempt 1: boom at 1234; attempt 2: boom at 1234; attempt 3: boom at 1234\)$/,
    );
    await expect(
      shuffle({ input: { generate: { module: mods, export: 'explodes' }, count: 5000 }, key: 'key', workers: 1, retries: 0 }),
    ).rejects.toThrow(/failed after 1 attempt \(attempt 1: boom at 1234\)$/);
    expect(ours()).toEqual(before);
  });
});
