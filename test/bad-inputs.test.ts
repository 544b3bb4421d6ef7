/**
 * The catalogue of bad inputs (also in docs/errors.md): each is refused with a clear error that
 * names the argument, before anything is written.
 */
import { expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Dict, Encode, File, Lmdb, Msgpack, Redis, Spill, TypedArrays, groupBy, shuffle, tuple, type Key } from '../src/index.js';
import { fixture } from './support/child.js';
import { tempDirs } from './support/temp-dirs.js';

const tmp = tempDirs('partd-bad-');
const gen = { generate: { module: fixture('shuffle-modules.mjs'), export: 'records' }, count: 100 };
const count = { n: { op: 'count' } } as const;
const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, [path.resolve('dist/src/cli/main.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  if (r.status === 0) return;
  throw Object.assign(new Error(`exit ${r.status}: ${r.stderr.trim().split('\n')[0]}`), { status: r.status });
};

/** A new store at a fresh path holding `text` under `key` (a job or owner record). */
const withRecord = async (key: Key, text: string) => {
  const d = path.join(tmp(), 's');
  const s = new Lmdb(d);
  await s.append([[key, Buffer.from(text)]]);
  await s.close();
  return d;
};

/** [input, what it calls, the error it must raise] */
export const catalogue: [string, () => unknown, RegExp][] = [
  [
    'a string value to a raw store',
    () => new Dict().append({ x: 'abc' as never }),
    /data\["x"\] value: a raw store takes Uint8Array values, got the string "abc"/,
  ],
  ['a number value to a raw store', () => new Lmdb().append([['x', 42 as never]]), /data\[0\] value: .* got number 42/],
  ['an object as a key', () => new Dict().get({} as Key), /key: a key is a string, a non-negative integer or a tuple\(\), got an object/],
  ['undefined as a key', () => new Dict().append([[undefined as never, new Uint8Array(1)]]), /data\[0\] key: .* got undefined/],
  ['NaN as a key', () => new Dict().delete(NaN), /keys: a number key must be a non-negative safe integer, got NaN/],
  ['a negative key', () => new Dict().iset(-1, new Uint8Array(1)), /key: a number key must be a non-negative safe integer, got -1/],
  ['a fractional key', () => new Dict().pop(1.5), /key: .* got 1.5/],
  [
    'a plain array as one key',
    () => new Dict().append([[['a', 'b'] as never, new Uint8Array(1)]]),
    /data\[0\] key: a plain array is not a key; use tuple\(\.\.\.\) for a tuple key/,
  ],
  ['an empty tuple', () => tuple(), /tuple\(\): a tuple key needs at least one element/],
  ['a nested tuple', () => tuple('a', tuple('b') as never), /tuple\(\) element 1: tuples do not nest/],
  [
    'a call after close()',
    async () => {
      const d = new Dict();
      await d.close();
      return d.get('x');
    },
    /get\(\): the store is closed/,
  ],
  [
    'a directory with other files as a store',
    () => {
      const d = tmp();
      fs.writeFileSync(path.join(d, 'keep.txt'), 'x');
      return new Lmdb(d);
    },
    /Lmdb: .* is not a Lmdb store \(it holds keep.txt and no .partd-lmdb marker\)/,
  ],
  [
    'a write to a readOnly Lmdb',
    async () => {
      const d = path.join(tmp(), 's');
      await new Lmdb(d).close();
      return new Lmdb(d, { readOnly: true }).append({ x: new Uint8Array(1) });
    },
    /append: the Lmdb store at .* was opened readOnly/,
  ],
  [
    'a plain file as a store',
    () => {
      const f = path.join(tmp(), 'f');
      fs.writeFileSync(f, 'x');
      return new Lmdb(f);
    },
    /it is not a directory/,
  ],
  [
    'a corrupt frame under a layer',
    async () => {
      const d = new Dict();
      await d.append({ x: Buffer.from('garbage') });
      return new Msgpack(d).get('x');
    },
    /key x: bad frame header at byte 0/,
  ],
  [
    'an array value missing for Msgpack',
    () => new Msgpack(new Dict()).append({ x: 5 as never }),
    /data\["x"\] value: Msgpack takes an array of values per key, got number 5/,
  ],
  [
    'another element type for a TypedArrays key',
    async () => {
      const t = new TypedArrays(new Dict());
      await t.append({ a: new Int32Array(1) });
      return t.append({ a: new Float64Array(1) });
    },
    /key a holds Int32Array elements; cannot append Float64Array/,
  ],
  [
    'a non-function encoder',
    () =>
      new Encode(
        1 as never,
        (b) => b,
        (x) => x[0]!,
        new Dict(),
      ),
    /encode: expected a function/,
  ],
  ['a negative Spill budget', () => new Spill(new Dict(), new Dict(), -5), /availableMemory: expected a number of bytes >= 0, got -5/],
  ['partitions: 0', () => shuffle({ input: gen, key: 'key', partitions: 0 }), /partitions: expected a positive integer, got number 0/],
  ['workers: 1.5', () => shuffle({ input: gen, key: 'key', workers: 1.5 }), /workers: expected a positive integer, got number 1.5/],
  ['splits: 0', () => shuffle({ input: gen, key: 'key', splits: 0 }), /splits: expected a positive integer, got number 0/],
  [
    'splits for a records input',
    () => shuffle({ input: { records: [{ key: 'a' }] }, key: 'key', splits: 2 }),
    /splits: a records input is cut into batches as it is read/,
  ],
  ['retries: -1', () => shuffle({ input: gen, key: 'key', retries: -1 }), /retries: expected a non-negative integer/],
  [
    'a missing input file',
    () => shuffle({ input: { ndjson: '/nonexistent.ndjson' }, key: 'key' }),
    /input: file "\/nonexistent.ndjson" does not exist/,
  ],
  [
    'a missing generator module',
    () => shuffle({ input: { generate: { module: '/nonexistent.mjs' }, count: 1 }, key: 'key' }),
    /input.generate: module "\/nonexistent.mjs" does not exist/,
  ],
  [
    'a missing export',
    () => shuffle({ input: { generate: { module: fixture('shuffle-modules.mjs'), export: 'nope' }, count: 1 }, key: 'key' }),
    /input.generate: module .* has no export "nope"/,
  ],
  [
    'a missing make export',
    () => shuffle({ input: { make: { module: fixture('shuffle-modules.mjs'), export: 'nope' }, count: 1 }, key: 'key' }),
    /input.make: module .* has no export "nope"/,
  ],
  [
    'a key that is neither a field nor a module',
    () => shuffle({ input: gen, key: 7 as never }),
    /key: expected a field name or \{ module, export \}, got number 7/,
  ],
  [
    'an input of an unknown kind',
    () => shuffle({ input: { parquet: 'x' } as never, key: 'key' }),
    /input: expected \{ generate, count \}, \{ make, count \}, \{ ndjson \}, \{ csv \} or \{ records \}/,
  ],
  [
    'a store of another job',
    async () => {
      const d = path.join(tmp(), 's');
      await groupBy({ input: gen, key: 'key', store: d, aggregate: count, workers: 1 });
      return groupBy({ input: gen, key: 'tag', store: d, aggregate: count, workers: 1 });
    },
    /store: .* holds another shuffle job/,
  ],
  [
    'a store another job is running on',
    async () => {
      const d = path.join(tmp(), 's');
      const h = await shuffle({ input: gen, key: 'key', store: d, workers: 1 });
      try {
        return await groupBy({ input: gen, key: 'key', store: d, aggregate: count, workers: 1 });
      } finally {
        await h.close();
      }
    },
    /^store: .* is in use by another shuffle job: pid \d+ on .*, since \d{4}-.*; wait for it to end, or use another directory$/,
  ],
  [
    'a store claimed from another host',
    async () =>
      groupBy({
        input: gen,
        key: 'key',
        store: await withRecord(tuple('owner'), '{"pid":1,"host":"elsewhere","session":"x","since":"2024-01-01T00:00:00.000Z"}\n'),
        aggregate: count,
        workers: 1,
      }),
    /^store: .* is in use by another shuffle job: pid 1 on elsewhere, since 2024-01-01T00:00:00\.000Z; it runs on another host \(this is .*\), so partd cannot tell whether it still runs: if it is gone, clear its claim: await new Lmdb\(".*"\)\.delete\(tuple\('owner'\)\)$/,
  ],
  [
    'a store whose job record is not JSON',
    async () => groupBy({ input: gen, key: 'key', store: await withRecord(tuple('job'), 'garbage'), aggregate: count, workers: 1 }),
    /^shuffle: .* is not a shuffle store \(its job record is not JSON: .*\); refusing to adopt or overwrite it$/,
  ],
  [
    'a store whose job record is not a job',
    async () => groupBy({ input: gen, key: 'key', store: await withRecord(tuple('job'), '[1,2]'), aggregate: count, workers: 1 }),
    /^shuffle: .* is not a shuffle store \(its job record is not a shuffle job\); refusing to adopt or overwrite it$/,
  ],
  [
    'a store whose owner record is not one partd wrote',
    async () => groupBy({ input: gen, key: 'key', store: await withRecord(tuple('owner'), 'garbage'), aggregate: count, workers: 1 }),
    /^shuffle: .* is not a shuffle store \(its owner record is not one partd wrote; if no job runs on it, clear it: await new Lmdb\(".*"\)\.delete\(tuple\('owner'\)\)\); refusing to adopt or overwrite it$/,
  ],
  [
    'an unknown Lmdb option',
    () => new Lmdb(path.join(tmp(), 's'), { nosync: true } as never),
    /options: unknown option "nosync" \(known: noSync, readOnly, valueFiles, valueFileMax\)/,
  ],
  [
    'a Lmdb flag that is not a boolean',
    () => new Lmdb(undefined, { readOnly: 'yes' } as never),
    /readOnly: expected a boolean, got the string "yes"/,
  ],
  ['Lmdb options that are not an object', () => new Lmdb(undefined, 5 as never), /options: expected an object, got number 5/],
  [
    'a readOnly Lmdb on a missing directory',
    () => new Lmdb(path.join(tmp(), 'missing'), { readOnly: true }),
    /Lmdb: .*missing does not exist; a readOnly store must already be there/,
  ],
  [
    'a readOnly Lmdb on an empty directory',
    () => new Lmdb(tmp(), { readOnly: true }),
    /Lmdb: .* holds no store \(it is empty\); a readOnly store must already be there/,
  ],
  [
    'a readOnly Lmdb without a directory',
    () => new Lmdb(undefined, { readOnly: true }),
    /Lmdb: no directory given; a readOnly store must already be there/,
  ],
  [
    'an options object to File',
    () => new (File as unknown as new (d: string, o: unknown) => File)(path.join(tmp(), 'f'), { sync: true }),
    /options: File takes no options, got an object \(Object\); its one argument is the directory/,
  ],
  [
    'an object as the Spill budget',
    () => new Spill(new Dict(), new Dict(), { availableMemory: 5 } as never),
    /availableMemory: expected a number of bytes >= 0, got an object \(Object\)/,
  ],
  [
    'a number as the Redis server',
    () => new Redis(42 as never),
    /^server: expected a redis:\/\/ URL, ioredis options or \{ cluster: nodes \}, got number 42$/,
  ],
  [
    'an http:// URL as the Redis server',
    () => new Redis('http://user:hunter2@x'),
    /^server: expected a redis:\/\/ or rediss:\/\/ URL, got the string "http:\/\/x"$/, // without the credentials
  ],
  [
    'a Redis Cluster of no nodes',
    () => new Redis({ cluster: [] }),
    /^server\.cluster: expected a non-empty array of nodes \("host:port" or \{ host, port \}\), got an array of length 0$/,
  ],
  [
    'an unknown Redis option',
    () => new Redis('redis://x', { nmae: 'x' } as never),
    /^options: unknown option "nmae" \(known: name, hashTag, ttl, segmentBytes\)$/,
  ],
  [
    'a Redis store name with a brace',
    () => new Redis('redis://x', { name: 'a{b}' }),
    /^name: expected a non-empty string of at most 200 characters without \{ \} \* \? \[ \] \\, got the string "a\{b\}"$/,
  ],
  [
    'a Redis TTL under a second',
    () => new Redis('redis://x', { ttl: 5 }),
    /^ttl: expected an integer number of milliseconds >= 1000, got number 5$/,
  ],
  [
    'Redis segments of 0 bytes',
    () => new Redis('redis://x', { segmentBytes: 0 }),
    /^segmentBytes: expected an integer from 1 to 536870912, got number 0$/,
  ],
  [
    'a Redis hashTag that is not a boolean',
    () => new Redis('redis://x', { hashTag: 'yes' as never }),
    /^hashTag: expected a boolean, got the string "yes"$/,
  ],
  [
    'a record holding a function',
    () => groupBy({ input: { records: [{ key: 'a' }, { key: 'b', f: () => 1 }] }, key: 'key', workers: 1, aggregate: count }),
    /input\.records item 1: cannot be sent to a worker thread \(DataCloneError: .*could not be cloned/,
  ],
  [
    'a gather result that cannot cross threads',
    async () => {
      const h = await shuffle({ input: gen, key: 'key', partitions: 4, workers: 1 });
      try {
        return await h.gather({ module: fixture('failures-modules.mjs'), export: 'unsendableAt3' });
      } finally {
        await h.drop();
      }
    },
    /^partition 3: the gather reducer returned a value that cannot be sent between threads \(an object \(Foo\) holding a function at \.callback\)$/,
  ],
  [
    'a custom aggregation result that cannot cross threads',
    () =>
      groupBy({
        input: gen,
        key: 'key',
        partitions: 4,
        workers: 1,
        aggregate: { x: { op: 'custom', reducer: { module: fixture('failures-modules.mjs'), export: 'withCallback' } } },
      }),
    /^partition \d: aggregation "x" gave key "k\d+" a value that cannot be sent between threads \(an object \(Object\) holding a function at \.read\)$/,
  ],
  [
    'gather after drop() of a shuffle handle',
    async () => {
      const h = await shuffle({ input: gen, key: 'key', partitions: 4, workers: 1 });
      await h.drop();
      return h.gather({ module: fixture('shuffle-modules.mjs'), export: 'countIds' });
    },
    /^gather\(\): the store is closed$/,
  ],
  [
    'get after close() of a shuffle handle',
    async () => {
      const h = await shuffle({ input: gen, key: 'key', partitions: 4, workers: 1 });
      await h.close();
      return h.get(0);
    },
    /^get\(\): the store is closed$/,
  ],
  [
    'workerHeapMB too small to start a worker',
    () => groupBy({ input: gen, key: 'key', workers: 1, workerHeapMB: 4, aggregate: count }),
    /^workerHeapMB: expected an integer >= 16, got number 4$/,
  ],
  [
    'an unknown aggregation',
    () => groupBy({ input: gen, key: 'key', aggregate: { x: { op: 'median', field: 'a' } as never } }),
    /aggregate.x.op: expected one of count, sum, .* got the string "median"/,
  ],
  [
    'an aggregation named "key"',
    () => groupBy({ input: gen, key: 'key', aggregate: { key: { op: 'count' } } }),
    /aggregate.key: "key" is the group's key column/,
  ],
  [
    'an unknown option name',
    () => groupBy({ input: gen, key: 'key', partitionz: 4, aggregate: count } as never),
    /options: unknown option "partitionz" \(known: input, key, partitions/,
  ],
  [
    'an unknown input property',
    () => shuffle({ input: { ...gen, size: 3 } as never, key: 'key' }),
    /input: unknown option "size" \(known: generate, count\)/,
  ],
  [
    'an unknown aggregation property',
    () => groupBy({ input: gen, key: 'key', aggregate: { s: { op: 'sum', field: 'amount', feild: 'x' } as never } }),
    /aggregate.s: unknown option "feild" \(known: op, field\)/,
  ],
  [
    'an empty field name',
    () => groupBy({ input: gen, key: 'key', aggregate: { s: { op: 'sum', field: '' } } }),
    /aggregate.s.field: expected a field name, got the string ""/,
  ],
  [
    'partitions beyond the maximum',
    () => shuffle({ input: gen, key: 'key', partitions: 1_000_000 }),
    /partitions: expected at most 65,536, got 1000000/,
  ],
  ['workers beyond the maximum', () => shuffle({ input: gen, key: 'key', workers: 1000 }), /workers: expected at most 256, got 1000/],
  [
    'a type other than string or number',
    () => shuffle({ input: gen, key: 'key', types: { key: 'int' as never } }),
    /types.key: expected 'string' or 'number', got the string "int"/,
  ],
  [
    'sum over a field declared a string',
    () => groupBy({ input: gen, key: 'key', types: { amount: 'string' }, aggregate: { s: { op: 'sum', field: 'amount' } } }),
    /types.amount: sum and mean take numbers, and types declares "amount" a string/,
  ],
  [
    'a CSV key not in the header',
    () => {
      const f = path.join(tmp(), 'h.csv');
      fs.writeFileSync(f, 'id,user\n1,a\n');
      return shuffle({ input: { csv: f }, key: 'key' });
    },
    /key: column "key" is not in the header of .*h\.csv \(its columns: id, user\)/,
  ],
  [
    'a CSV aggregated field not in the header',
    () => {
      const f = path.join(tmp(), 'h.csv');
      fs.writeFileSync(f, 'key,amt\na,1\n');
      return groupBy({ input: { csv: f }, key: 'key', aggregate: { s: { op: 'sum', field: 'amount' } } });
    },
    /aggregate: column "amount" is not in the header of .*h\.csv \(its columns: key, amt\)/,
  ],
  [
    'a string summed in NDJSON',
    () => {
      const f = path.join(tmp(), 'a.ndjson');
      fs.writeFileSync(f, '{"k":"a","v":10}\n{"k":"a","v":"5"}\n');
      return groupBy({ input: { ndjson: f }, key: 'k', workers: 1, aggregate: { s: { op: 'sum', field: 'v' } } });
    },
    /a\.ndjson line 2: field "v": sum takes finite numbers, got the string "5"/,
  ],
  [
    'a key beyond 2^53 in NDJSON',
    () => {
      const f = path.join(tmp(), 'a.ndjson');
      fs.writeFileSync(f, '{"k":12345678901234567890}\n');
      return groupBy({ input: { ndjson: f }, key: 'k', workers: 1, aggregate: count });
    },
    /a\.ndjson line 1: key field "k": 12345678901234567000 is beyond ±\(2\^53 − 1\).*quote it in the input/,
  ],
  [
    'a CSV value that does not fit its inferred column',
    () => {
      const f = path.join(tmp(), 'z.csv');
      fs.writeFileSync(f, 'k,zip\n' + Array.from({ length: 1001 }, (_, i) => `a,${10000 + i}`).join('\n') + '\na,00501\n');
      return shuffle({ input: { csv: f }, key: 'k', workers: 1 });
    },
    /z\.csv line 1003: column "zip": expected a number \(its column was inferred to hold numbers from the first 1000 rows; declare its type, e\.g\. types: \{ "zip": 'string' \}\)/,
  ],
  [
    'a key function that throws',
    () => groupBy({ input: gen, key: { module: fixture('shuffle-modules.mjs'), export: 'throwingKey' }, workers: 1, aggregate: count }),
    /the key function threw: /,
  ],
  ['CLI: no --key', () => cli('groupby', 'x.ndjson'), /exit 2: partd: required option '--key <field>' not specified/],
  [
    'CLI: --partitions abc',
    () => cli('groupby', fixture('shuffle-modules.mjs'), '--key', 'k', '--format', 'ndjson', '--partitions', 'abc'),
    /exit 2: partd: --partitions: expected a positive integer, got "abc"/,
  ],
  [
    'CLI: an unknown extension',
    () => cli('groupby', 'data.parquet', '--key', 'k'),
    /exit 2: partd: --format: cannot tell the format of "data.parquet"/,
  ],
  ['CLI: a missing file', () => cli('groupby', '/nonexistent.ndjson', '--key', 'k'), /exit 1: partd: \/nonexistent.ndjson: no such file/],
  [
    'CLI: stdin with --store',
    () => cli('groupby', '-', '--format', 'ndjson', '--key', 'k', '--store', path.join(tmp(), 's')),
    /exit 2: partd: --store: stdin \(-\) cannot be resumed/,
  ],
  [
    'CLI: --out into a missing directory',
    () => cli('groupby', fixture('shuffle-modules.mjs'), '--format', 'ndjson', '--key', 'k', '--out', '/nonexistent/dir/g.ndjson'),
    /exit 1: partd: --out: directory "\/nonexistent\/dir" does not exist/,
  ],
  [
    'CLI: shuffle --out a file',
    () => cli('shuffle', fixture('shuffle-modules.mjs'), '--format', 'ndjson', '--key', 'k', '--out', fixture('shuffle-modules.mjs')),
    /exit 1: partd: --out: ".*shuffle-modules.mjs" is a file, not a directory/,
  ],
  [
    'CLI: --types amount:int',
    () => cli('groupby', 'x.csv', '--key', 'k', '--types', 'amount:int'),
    /exit 2: partd: --types: a type is string or number, got "int" for "amount"/,
  ],
  [
    'CLI: --types without a type',
    () => cli('groupby', 'x.csv', '--key', 'k', '--types', 'amount'),
    /exit 2: partd: --types: expected FIELD:string or FIELD:number/,
  ],
  [
    'CLI: --types declaring a field twice',
    () => cli('groupby', 'x.csv', '--key', 'k', '--types', 'a:number', '--types', 'a:string'),
    /exit 2: partd: --types: "a" is declared both number and string/,
  ],
  ['CLI: an empty --key', () => cli('groupby', 'x.ndjson', '--key', ''), /exit 2: partd: --key: expected a field name, got ""/],
  ['CLI: a directory as input', () => cli('groupby', os.tmpdir(), '--format', 'ndjson', '--key', 'k'), /exit 1: partd: .*: not a file/],
  ['CLI: an unknown option', () => cli('groupby', 'x.ndjson', '--key', 'k', '--bogus'), /exit 2: partd: unknown option '--bogus'/],
  [
    'CLI: --partitions 100000',
    () => cli('groupby', fixture('shuffle-modules.mjs'), '--format', 'ndjson', '--key', 'k', '--partitions', '100000'),
    /exit 2: partd: --partitions: expected at most 65,536, got 100000/,
  ],
  ['CLI: get on an empty directory', () => cli('get', tmp(), '0'), /exit 1: partd: Lmdb: .* holds no store \(it is empty\)/],
];

it("docs/errors.md's catalogue table lists every case here, by its description, in this order", () => {
  const doc = fs.readFileSync(path.resolve('docs/errors.md'), 'utf8');
  const section = doc.split(/^## The bad-input catalogue$/m)[1];
  expect(section).toBeDefined();
  const rows = section!
    .split(/^## /m)[0]!
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .slice(2); // no header, no |---|
  const described = rows.map((row) =>
    row
      .split(/(?<!\\)\|/)[1]!
      .trim()
      .replace(/\\\|/g, '|'),
  );
  expect(described).toEqual(catalogue.map(([description]) => description));
  expect(section!.replace(/\s+/g, ' ')).toContain(`its \`catalogue\` array, ${catalogue.length} cases, in this order`); // the count the text gives
});

it.each(catalogue)('%s', async (_, call, error) => {
  await expect((async () => call())()).rejects.toThrow(error);
});
