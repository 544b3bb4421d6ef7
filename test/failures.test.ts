/**
 * Failures that must reach the caller as a rejection (or a thrown error), never as a crash of
 * the process, and leave the process usable: records that cannot be sent to a worker thread,
 * worker threads that run out of memory, results that cannot cross threads, calls on a
 * closed shuffle handle, bad store options. Scenarios that crashed the process run in a child
 * process (test/fixtures/failures-child.mjs), so the test runner survives them.
 */
import { describe, expect, it } from '@jest/globals';
import fs from 'node:fs';
import path from 'node:path';
import { ClosedError, File, Lmdb, Spill, Dict, groupBy, shuffle } from '../src/index.js';
import { fixture, runNode } from './support/child.js';
import { tempDirs } from './support/temp-dirs.js';

const mods = fixture('failures-modules.mjs');
const tmp = tempDirs('partd-failures-');

type Line = Record<string, unknown>;
/** Runs a scenario of failures-child.mjs: its exit code and its two JSON lines (outcome, then the groupBy run afterwards). */
async function scenario(name: string): Promise<{ code: number | null; outcome: Line; after: Line; stderr: string }> {
  const r = await runNode(fixture('failures-child.mjs'), [name]);
  const lines = r.stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line);
  return { code: r.code, outcome: lines[0] ?? {}, after: lines[1] ?? {}, stderr: r.stderr };
}
/** What the small groupBy after each scenario must give. */
const afterRows = [
  { key: 'a0', n: 334 },
  { key: 'a1', n: 333 },
  { key: 'a2', n: 333 },
];

describe('records that cannot be sent to a worker thread', () => {
  it("onBadRecord 'error': a BadRecordError naming the item, counted over the whole input", async () => {
    const r = await scenario('unsendable-error');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.outcome).toMatchObject({ ok: false, name: 'BadRecordError', isError: true });
    // item 3 (a symbol) is in batch 0, item 12345 (a function) in batch 1: either batch may fail first
    expect(r.outcome.message).toMatch(
      /^input\.records item (3|12345): cannot be sent to a worker thread \(DataCloneError: .*could not be cloned\.?\)$/,
    );
    expect(r.after).toEqual({ after: afterRows });
  });

  it("onBadRecord 'skip': the item is skipped and counted in stats.badRecords", async () => {
    const r = await scenario('unsendable-skip');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const expected = new Map<string, { key: string; n: number; v: number }>();
    for (let i = 0; i < 25_000; i++) {
      if (i === 3 || i === 12_345) continue;
      const g = expected.get(`k${i % 7}`) ?? { key: `k${i % 7}`, n: 0, v: 0 };
      expected.set(g.key, { key: g.key, n: g.n + 1, v: g.v + i });
    }
    expect(r.outcome).toEqual({
      ok: true,
      size: 7,
      badRecords: 2,
      records: 24_998,
      rows: [...expected.values()].sort((a, b) => (a.key < b.key ? -1 : 1)),
    });
    expect(r.after).toEqual({ after: afterRows });
  });
});

describe('worker threads that fail outside a task', () => {
  it.each(['heap-2', 'heap-4'])(
    '%s: a heap too small to start a worker is refused before any work, and the process goes on',
    async (name) => {
      const r = await scenario(name);
      expect(r.code).toBe(0);
      expect(r.outcome).toMatchObject({ ok: false, isError: true });
      expect(r.outcome.message).toBe(`workerHeapMB: expected an integer >= 16, got number ${name.slice(5)}`);
      expect(r.after).toEqual({ after: afterRows });
    },
  );

  it('a collect over 2M distinct keys in 64 MiB workers rejects, and the process does not die afterwards', async () => {
    const r = await scenario('collect-64');
    expect(r.code).toBe(0);
    expect(r.outcome).toMatchObject({ ok: false, name: 'ShuffleError', isError: true });
    expect(r.outcome.message).toMatch(
      /^split \d+ \(records \d+\.\.\d+\) failed after 3 attempts \(attempt 1: a worker thread ran out of memory \(workerHeapMB: 64\): /,
    );
    expect(r.after).toEqual({ after: afterRows });
  });
});

describe('many partitions', () => {
  it('a groupBy with partitions: 65536 gives exactly the reference result', async () => {
    const N = 30_000;
    const keyOf = (i: number) => `key${(i * 7919) % 20_011}`;
    const expected = new Map<string, { key: string; n: number; v: number; first: number; all: number[] }>();
    for (let i = 0; i < N; i++) {
      const g = expected.get(keyOf(i));
      if (g) (g.n++, (g.v += i), g.all.push(i));
      else expected.set(keyOf(i), { key: keyOf(i), n: 1, v: i, first: i, all: [i] });
    }
    const records = Array.from({ length: N }, (_, i) => ({ key: keyOf(i), v: i }));
    const groups = await groupBy({
      input: { records },
      key: 'key',
      partitions: 65_536,
      workers: 2,
      aggregate: {
        n: { op: 'count' },
        v: { op: 'sum', field: 'v' },
        first: { op: 'first', field: 'v' },
        all: { op: 'collect', field: 'v' },
      },
    });
    expect(groups.stats!.partitions).toBe(65_536);
    expect(new Map(groups)).toEqual(expected);
  });
});

describe('a shuffle handle after drop() or close()', () => {
  const input = { generate: { module: mods, export: 'few' }, count: 2000 };
  const reducer = { module: fixture('shuffle-modules.mjs'), export: 'countIds' };

  it('gather after drop() rejects with ClosedError at once and creates nothing', async () => {
    const h = await shuffle({ input, key: 'key', partitions: 4, workers: 2 });
    const dir = h.store.path;
    await h.drop();
    expect(fs.existsSync(dir)).toBe(false);
    await expect(h.gather(reducer)).rejects.toThrow(ClosedError);
    await expect(h.gather(reducer)).rejects.toThrow(/^gather\(\): the store is closed$/);
    expect(fs.existsSync(dir)).toBe(false);
  });

  it('gather, get and iterate after close() reject with ClosedError; a kept store is left as it was', async () => {
    const dir = path.join(tmp(), 'kept');
    const h = await shuffle({ input, key: 'key', partitions: 4, workers: 2, store: dir });
    const before = fs.readdirSync(dir).sort();
    await h.close();
    await expect(h.gather(reducer)).rejects.toThrow(ClosedError);
    await expect(h.get(0)).rejects.toThrow(ClosedError);
    await expect(h.iterate(0)[Symbol.asyncIterator]().next()).rejects.toThrow(ClosedError);
    expect(fs.readdirSync(dir).sort()).toEqual(before);
  });

  it('get and iterate after close() reject even when the caller still holds the store open', async () => {
    await using store = new Lmdb();
    const h = await shuffle({ input, key: 'key', partitions: 4, workers: 2, store });
    expect((await h.get(0)).length).toBeGreaterThan(0);
    await h.close();
    expect(store.closed).toBe(false);
    await expect(h.get(0)).rejects.toThrow(/^get\(\): the store is closed$/);
    await expect(h.iterate(0)[Symbol.asyncIterator]().next()).rejects.toThrow(/^iterate\(\): the store is closed$/);
    await expect(h.gather(reducer)).rejects.toThrow(ClosedError);
  });
});

describe('a readOnly Lmdb', () => {
  it('on a missing directory throws and creates nothing', () => {
    const dir = path.join(tmp(), 'missing', 'store');
    expect(() => new Lmdb(dir, { readOnly: true })).toThrow(`Lmdb: ${dir} does not exist; a readOnly store must already be there`);
    expect(fs.existsSync(dir)).toBe(false);
    expect(fs.existsSync(path.dirname(dir))).toBe(false);
  });

  it('on an empty directory throws and writes nothing there', () => {
    const dir = tmp();
    expect(() => new Lmdb(dir, { readOnly: true })).toThrow(
      `Lmdb: ${dir} holds no store (it is empty); a readOnly store must already be there`,
    );
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('without a directory throws, rather than make an empty temporary store to read', () => {
    expect(() => new Lmdb(undefined, { readOnly: true })).toThrow(
      new TypeError('Lmdb: no directory given; a readOnly store must already be there'),
    );
  });
});

describe('gather results and errors across threads', () => {
  const input = { generate: { module: mods, export: 'few' }, count: 2000 };
  const P = 8; // with 2 workers (2 splits, so both run), one partition per gather task

  it('a reducer result that cannot cross threads names the partition and the value, and is not retried', async () => {
    await using h = await shuffle({ input, key: 'key', partitions: P, workers: 2, splits: 2 });
    const e = await h.gather({ module: mods, export: 'unsendableAt3' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Error);
    expect((e as Error).message).toBe(
      'partition 3: the gather reducer returned a value that cannot be sent between threads (an object (Foo) holding a function at .callback)',
    );
    const s = await h.gather({ module: mods, export: 'symbolAt1' }).catch((x: unknown) => x);
    expect((s as Error).message).toBe('partition 1: the gather reducer returned a value that cannot be sent between threads (a symbol)');
  });

  it('a custom aggregation whose result cannot cross threads names the partition, the aggregation and the key', async () => {
    const run = groupBy({
      input,
      key: 'key',
      partitions: P,
      workers: 2,
      splits: 2,
      aggregate: { n: { op: 'count' }, odd: { op: 'custom', reducer: { module: mods, export: 'withCallback' } } },
    });
    await expect(run).rejects.toThrow(
      /^partition \d: aggregation "odd" gave key "k\d+" a value that cannot be sent between threads \(an object \(Object\) holding a function at \.read\)$/,
    );
  });

  it('a reducer that throws a string or a plain object rejects with an Error that says what was thrown', async () => {
    await using h = await shuffle({ input, key: 'key', partitions: P, workers: 2, splits: 2, retries: 0 });
    const s = await h.gather({ module: mods, export: 'throwsString' }).catch((x: unknown) => x);
    expect(s).toBeInstanceOf(Error);
    expect((s as Error).message).toBe('partition 2 failed after 1 attempt (attempt 1: the string thrown at partition 2)');
    const o = await h.gather({ module: mods, export: 'throwsObject' }).catch((x: unknown) => x);
    expect(o).toBeInstanceOf(Error);
    expect((o as Error).message).toBe(
      'partition 2 failed after 1 attempt (attempt 1: a worker threw a value that is not an Error: {"reason":"no luck","partition":2})',
    );
  });

  it("an error keeps its code and its cause's message across threads", async () => {
    await using h = await shuffle({ input, key: 'key', partitions: P, workers: 2, splits: 2, retries: 0 });
    const e = (await h.gather({ module: mods, export: 'throwsCoded' }).catch((x: unknown) => x)) as Error & { cause: AggregateError };
    expect(e.message).toBe('partition 2 failed after 1 attempt (attempt 1: coded failure)');
    const cause = e.cause.errors[0] as Error & { code?: string; cause?: Error };
    expect(cause.code).toBe('E_PARTD_TEST');
    expect(cause.cause).toBeInstanceOf(Error);
    expect(cause.cause!.message).toBe('the underlying cause');
  });
});

describe('store options', () => {
  it('Lmdb rejects an option it does not know, naming it, before creating anything', () => {
    const dir = path.join(tmp(), 's');
    expect(() => new Lmdb(dir, { nosync: true } as never)).toThrow(
      new RangeError('options: unknown option "nosync" (known: noSync, readOnly, valueFiles, valueFileMax)'),
    );
    expect(fs.existsSync(dir)).toBe(false);
  });

  it('Lmdb rejects options that are not an object, and flags that are not booleans', () => {
    expect(() => new Lmdb(undefined, 5 as never)).toThrow(new TypeError('options: expected an object, got number 5'));
    expect(() => new Lmdb(undefined, { readOnly: 'yes' } as never)).toThrow(
      new TypeError('readOnly: expected a boolean, got the string "yes"'),
    );
    expect(() => new Lmdb(undefined, { noSync: 1 } as never)).toThrow(new TypeError('noSync: expected a boolean, got number 1'));
  });

  it('File and Spill take no options object: a second argument of File, or an object as the Spill budget, is refused', () => {
    const FileWithOptions = File as unknown as new (dir: string, options: unknown) => File;
    const dir = path.join(tmp(), 'f');
    expect(() => new FileWithOptions(dir, { sync: true })).toThrow(
      new TypeError('options: File takes no options, got an object (Object); its one argument is the directory'),
    );
    expect(fs.existsSync(dir)).toBe(false);
    expect(() => new Spill(new Dict(), new Dict(), { availableMemory: 5 } as never)).toThrow(
      new RangeError('availableMemory: expected a number of bytes >= 0, got an object (Object)'),
    );
  });
});
