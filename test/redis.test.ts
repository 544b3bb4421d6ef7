/**
 * The `Redis` store on real servers started here: a single server and a Cluster of 3 primaries
 * + 3 replicas. The conformance suite (the store, layers over it), random call sequences
 * against a model, values over a segment, what one call is atomic over, one command per call.
 * A Cluster without hashTag's parts (one per primary): redis-shards.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { Redis as IORedis, Cluster } from 'ioredis';
import {
  Dict,
  LZ4,
  Msgpack,
  Redis,
  RedisWrongTypeError,
  Spill,
  TypedArrays,
  type Partd,
  type RedisServer,
  type RedisStoreOptions,
} from '../src/index.js';
import { bytesAdapter } from '../src/extend.js';
import { arrays, conformance, typed } from './support/adapters.js';
import { startCluster, startRedis, type RedisCluster, type RedisProcess } from './support/redis-server.js';
import { check, opArb } from './support/store-model.js';

let single: RedisProcess;
let cluster: RedisCluster;
beforeAll(async () => {
  [single, cluster] = await Promise.all([startRedis(), startCluster()]);
}, 60_000);
afterAll(async () => {
  await Promise.all([single?.stop(), cluster?.stop()]);
});

const onSingle = (options?: RedisStoreOptions) => new Redis(single.url, options);
const onCluster = (options?: RedisStoreOptions) => new Redis({ cluster: cluster.startNodes }, options);
let names = 0;
const named = (options: RedisStoreOptions = {}) => ({ ...options, name: `t${++names}` });
const b = (s: string) => Buffer.from(s);

type Raw = Partd<Uint8Array, Uint8Array>;
const raws: [string, () => Raw][] = [
  ['Redis (temporary)', () => onSingle()],
  ['Redis({ name })', () => onSingle(named())],
  ['Redis({ name, hashTag, segmentBytes: 3 })', () => onSingle(named({ hashTag: true, segmentBytes: 3 }))],
  ['Redis on a Cluster (temporary)', () => onCluster()],
  ['Redis on a Cluster ({ name, segmentBytes: 5 })', () => onCluster(named({ segmentBytes: 5 }))],
  ['Redis on a Cluster ({ hashTag })', () => onCluster({ hashTag: true })],
  ['Spill(Dict, Redis, 10)', () => new Spill(new Dict(), onSingle(), 10)],
  ['LZ4(Redis on a Cluster)', () => new LZ4(onCluster())],
];
for (const [name, make] of raws) conformance(name, make, bytesAdapter);
conformance('Msgpack(Redis)', () => new Msgpack(onSingle()), arrays);
conformance('TypedArrays(Redis on a Cluster, hashTag)', () => new TypedArrays(onCluster({ hashTag: true })) as unknown as Raw, typed);

describe('Redis agrees with a model Map', () => {
  const stores: [string, () => Raw][] = [
    ['single server, segments of 5 bytes', () => onSingle({ segmentBytes: 5 })],
    ['Cluster, segments of 5 bytes', () => onCluster({ segmentBytes: 5 })],
    ['Cluster with hashTag', () => onCluster({ hashTag: true })],
  ];
  describe.each([
    ['each call awaited', true],
    ['no call awaited before the next is made', false],
  ] as const)('%s', (_, awaited) => {
    it.each(stores)('%s', async (_, make) => {
      const store = make();
      try {
        await fc.assert(
          fc.asyncProperty(fc.array(opArb, { maxLength: 30 }), async (ops) => {
            await store.drop();
            await check(store, ops, false, awaited);
          }),
          { numRuns: 25 },
        );
      } finally {
        await store.close();
      }
    });
  });
});

/** A plain client of the server, to look at the keys as Redis holds them. */
function rawClient(server: RedisServer): IORedis | Cluster {
  return typeof server === 'string' ? new IORedis(server) : new Cluster((server as { cluster: { host: string; port: number }[] }).cluster);
}

describe('values as lists of segments', () => {
  it.each([
    ['a single server', () => single.url],
    ['a Cluster', () => ({ cluster: cluster.startNodes })],
  ] as const)('on %s: a value over the segment size is several list elements, read back whole and in order', async (_, server) => {
    const store = new Redis(server(), { segmentBytes: 1000, name: `seg${++names}` });
    const raw = rawClient(server());
    try {
      const big = Buffer.alloc(10_500).map((_, i) => (i * 7919) % 251);
      await store.append({ k: big, small: b('x') });
      await store.append({ k: b('tail') });
      expect(await raw.llen(`partd:${store.name}:d:k`)).toBe(11 + 1); // 10 full segments, 500 bytes, then 'tail'
      expect(await raw.type(`partd:${store.name}:d:k`)).toBe('list');
      expect(Buffer.compare(Buffer.from(await store.get('k')), Buffer.concat([big, b('tail')]))).toBe(0);
      const pieces: Buffer[] = [];
      for await (const piece of store.iterate('k')) pieces.push(Buffer.from(piece));
      expect(pieces.map((p) => p.length)).toEqual([...Array(10).fill(1000), 500, 4]);
      expect(Buffer.compare(Buffer.concat(pieces), Buffer.concat([big, b('tail')]))).toBe(0);
    } finally {
      await store.drop();
      await store.close();
      raw.disconnect();
    }
  });
});

/** `INFO commandstats` calls of each command, summed over the primaries. */
async function commandCalls(raw: IORedis): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const m of (await raw.info('commandstats')).matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)) out.set(m[1]!, Number(m[2]));
  return out;
}

describe('one call, one command: a call of many keys is one round trip', () => {
  it('append of 1000 keys is one EVAL, get of 1000 keys one MULTI/EXEC, delete one UNLINK (single server)', async () => {
    const store = onSingle(named());
    const raw = new IORedis(single.url);
    try {
      const data = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`k${i}`, b(`v${i}`)]));
      const keys = Object.keys(data);
      const delta = async (fn: () => Promise<unknown>) => {
        const before = await commandCalls(raw);
        await fn();
        const after = await commandCalls(raw);
        const d: Record<string, number> = {};
        for (const [cmd, n] of after) if (n - (before.get(cmd) ?? 0) > 0 && cmd !== 'info') d[cmd] = n - (before.get(cmd) ?? 0);
        return d;
      };
      expect(await delta(() => store.append(data))).toEqual({ eval: 1, type: 1000, rpush: 1000 }); // inside the script
      expect(await delta(() => store.get(keys))).toEqual({ multi: 1, lrange: 1000, exec: 1 });
      expect((await store.get(keys)).map(String)).toEqual(keys.map((k) => String(data[k])));
      expect(await delta(() => store.delete(keys))).toEqual({ unlink: 1 });
    } finally {
      await store.close();
      raw.disconnect();
    }
  });
});

describe('what one append call is atomic over', () => {
  /** Appends `calls` calls of `marker` to every key without awaiting, while another instance reads them all; the snapshots it saw. */
  async function race(writer: Redis, reader: Redis, keys: string[], calls: number): Promise<number[][]> {
    const seen: number[][] = [];
    let done = false;
    const writes = (async () => {
      const pending: Promise<void>[] = [];
      for (let c = 0; c < calls; c++) pending.push(writer.append(keys.map((k) => [k, b('.'.repeat(3))] as const)));
      await Promise.all(pending);
      done = true;
    })();
    while (!done) seen.push((await reader.get(keys)).map((v) => v.length / 3));
    await writes;
    seen.push((await reader.get(keys)).map((v) => v.length / 3));
    return seen;
  }

  it.each([
    ['a single server', (o: RedisStoreOptions) => onSingle(o)],
    ['a Cluster with hashTag', (o: RedisStoreOptions) => onCluster({ ...o, hashTag: true })],
  ] as const)('on %s, another instance never sees part of a call: every key holds the same number of calls', async (_, make) => {
    const options = named({ segmentBytes: 1 });
    const [writer, reader] = [make(options), make(options)];
    const keys = Array.from({ length: 20 }, (_, i) => `k${i}`);
    try {
      const seen = await race(writer, reader, keys, 300);
      for (const counts of seen) expect(new Set(counts).size).toBe(1);
      expect(seen.at(-1)).toEqual(keys.map(() => 300));
    } finally {
      await writer.drop();
      await Promise.all([writer.close(), reader.close()]);
    }
  });

  it("on a Cluster without hashTag, each key's part of a call is atomic (its segments land together; per primary: redis-shards.test.ts)", async () => {
    const options = named({ segmentBytes: 1 }); // each call's 3 bytes are 3 list elements
    const [writer, reader] = [onCluster(options), onCluster(options)];
    const keys = Array.from({ length: 20 }, (_, i) => `k${i}`);
    try {
      const seen = await race(writer, reader, keys, 300);
      for (const counts of seen) for (const n of counts) expect(Number.isInteger(n)).toBe(true);
      expect(seen.at(-1)).toEqual(keys.map(() => 300));
    } finally {
      await writer.drop();
      await Promise.all([writer.close(), reader.close()]);
    }
  });

  // on a Cluster without hashTag: test/redis-shards.test.ts
  it.each([
    ['a single server', () => single.url, {}],
    ['a Cluster with hashTag', () => ({ cluster: cluster.startNodes }), { hashTag: true }],
  ] as const)('on %s, a key of another type in the call: nothing of the call is applied', async (_, server, options) => {
    const store = new Redis(server(), named(options));
    const raw = rawClient(server());
    const key = (k: string) => `partd:${store.hashTag ? `{${store.name}}` : store.name}:d:${k}`;
    try {
      await store.append({ a: b('1'), b: b('1') });
      await raw.set(key('s'), 'a string');
      const call = store.append([
        ['a', b('2')],
        ['s', b('2')],
        ['b', b('2')],
      ]);
      await expect(call).rejects.toThrow(RedisWrongTypeError);
      await expect(call).rejects.toThrow(/key s is held in Redis as a string, not a list; nothing of the call was applied$/);
      expect((await store.get(['a', 'b'])).map(String)).toEqual(['1', '1']); // nothing of the call
      expect(await raw.get(key('s'))).toBe('a string'); // left as it was
      await expect(store.get('s')).rejects.toThrow(RedisWrongTypeError);
    } finally {
      await raw.del(key('s'));
      await store.drop();
      await store.close();
      raw.disconnect();
    }
  });
});

describe('calls of 8 MiB and more (WATCH, then MULTI/EXEC: no copy into Lua)', () => {
  it.each([
    ['a single server', () => single.url, {}],
    ['a Cluster with hashTag', () => ({ cluster: cluster.startNodes }), { hashTag: true }],
  ] as const)(
    'on %s: in order with the calls around them, iset replaces, a key of another type stops the whole call',
    async (_, server, options) => {
      const store = new Redis(server(), named(options));
      const raw = rawClient(server());
      const big = Buffer.alloc(9 << 20).map((_, i) => (i * 31) % 253);
      try {
        const calls = [
          store.append({ s: b('<') }),
          store.append({ s: big, t: b('t') }),
          store.append({ s: b('>') }),
          store.get(['s', 't']),
        ];
        const got = (await Promise.all(calls))[3] as Uint8Array[];
        expect(Buffer.compare(Buffer.from(got[0]!), Buffer.concat([b('<'), big, b('>')]))).toBe(0);
        expect(String(got[1])).toBe('t');
        await store.iset('s', big);
        expect(Buffer.compare(Buffer.from(await store.get('s')), big)).toBe(0);
        const stringKey = `partd:${store.hashTag ? `{${store.name}}` : store.name}:d:str`;
        await raw.set(stringKey, 'a string');
        await expect(store.append({ t: big, str: b('x') })).rejects.toThrow(
          /key str is held in Redis as a string, not a list; nothing of the call was applied/,
        );
        expect(String(await store.get('t'))).toBe('t');
      } finally {
        await store.drop();
        await store.close();
        raw.disconnect();
      }
    },
  );
});

describe('the Cluster helpers (for fault tests)', () => {
  it('a primary killed: its replica takes over, the store reads what was replicated; restarted, the node rejoins', async () => {
    const store = onCluster(named());
    try {
      const data = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`k${i}`, b(`v${i}`)]));
      await store.append(data);
      await cluster.replicated(); // before the kill
      const victim = cluster.primaries()[0]!;
      await victim.kill();
      await cluster.waitOk();
      expect(cluster.primaries()).toHaveLength(3);
      const keys = Object.keys(data);
      expect((await store.get(keys)).map(String)).toEqual(keys.map((k) => String(data[k])));
      await victim.restart();
      await cluster.waitOk();
      expect(cluster.primaries()).toHaveLength(3);
    } finally {
      await store.drop();
      await store.close();
    }
  }, 30_000);
});
