/**
 * The `Redis` store on a Cluster without `hashTag` (3 primaries + 3 replicas): a call is one
 * script per primary its keys are on. Which primary holds a key is asked of Redis itself
 * (CLUSTER KEYSLOT, CLUSTER SLOTS), not of the store's slot map: what a part is atomic over, a
 * part that fails alone, the commands each primary runs, keys whose slot moved under the store.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Cluster, Redis as IORedis } from 'ioredis';
import { Redis, RedisWrongTypeError } from '../src/index.js';
import { startCluster, type RedisCluster } from './support/redis-server.js';

let cluster: RedisCluster;
/** A plain client of each primary, by port. */
let nodes: Map<number, IORedis>;
beforeAll(async () => {
  cluster = await startCluster();
  nodes = new Map(cluster.primaries().map((p) => [p.port, new IORedis(p.port, '127.0.0.1')]));
}, 60_000);
afterAll(async () => {
  for (const n of nodes?.values() ?? []) n.disconnect();
  await cluster?.stop();
});

let names = 0;
const b = (s: string) => Buffer.from(s);
const dataKey = (store: Redis, id: string) => `partd:${store.name}:d:${id}`;

/** The port of the primary serving each key now, as Redis says. */
async function portsOf(keys: readonly string[]): Promise<number[]> {
  const any = [...nodes.values()][0]!;
  const ranges = (await any.cluster('SLOTS')) as unknown as [number, number, [string, number]][];
  return Promise.all(
    keys.map(async (key) => {
      const slot = (await any.cluster('KEYSLOT', key)) as number;
      return ranges.find(([from, to]) => slot >= from && slot <= to)![2][1];
    }),
  );
}

/** Each key's list elements, read from the primary that holds it. */
async function listsOf(keys: readonly string[]): Promise<string[]> {
  const ports = await portsOf(keys);
  return Promise.all(keys.map(async (key, i) => (await nodes.get(ports[i]!)!.lrange(key, 0, -1)).join('')));
}

/** `INFO commandstats` calls per command on one node. */
async function calls(node: IORedis): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const m of (await node.info('commandstats')).matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)) out.set(m[1]!, Number(m[2]));
  return out;
}

/** Per primary port, how many times each of `commands` ran during `fn`. */
async function ranDuring(commands: readonly string[], fn: () => Promise<unknown>): Promise<Map<number, Record<string, number>>> {
  const before = new Map(await Promise.all([...nodes].map(async ([port, n]) => [port, await calls(n)] as const)));
  await fn();
  const out = new Map<number, Record<string, number>>();
  for (const [port, n] of nodes) {
    const after = await calls(n);
    out.set(port, Object.fromEntries(commands.map((c) => [c, (after.get(c) ?? 0) - (before.get(port)!.get(c) ?? 0)])));
  }
  return out;
}

const ids = (n: number) => Array.from({ length: n }, (_, i) => `k${i}`);

describe('a call of keys on every primary', () => {
  it("a key of another type on one primary: that primary's part fails whole, the others are applied, and the error says so", async () => {
    const store = new Redis({ cluster: cluster.startNodes }, { name: `shard${++names}` });
    const raw = new Cluster(cluster.startNodes);
    try {
      const keys = ids(30);
      const ports = await portsOf(keys.map((k) => dataKey(store, k)));
      expect(new Set(ports).size).toBe(3); // the call spans every primary
      const wrong = 'k7';
      const held = ports[keys.indexOf(wrong)]!;
      const others = keys.filter((k) => k !== wrong);
      await store.append(others.map((k) => [k, b('1')] as const));
      await raw.sadd(dataKey(store, wrong), 'member'); // a set, not a list
      const applied = others.filter((k) => ports[keys.indexOf(k)] !== held);

      const call = store.append(keys.map((k) => [k, b('2')] as const));
      await expect(call).rejects.toThrow(RedisWrongTypeError);
      await expect(call).rejects.toThrow(
        new RegExp(
          `key ${wrong} is held in Redis as a set, not a list; nothing of that primary's part was applied ` +
            `\\(on a Cluster without hashTag each primary's part of a call is applied on its own: 2 of 3 parts ` +
            `\\(${applied.length} of 30 keys\\) were applied\\)`,
        ),
      );
      // the reference: '12' where the part landed, '1' on the wrong key's primary
      const expected = others.map((k) => (applied.includes(k) ? '12' : '1'));
      expect(await listsOf(others.map((k) => dataKey(store, k)))).toEqual(expected);
      expect((await store.get(others)).map(String)).toEqual(expected);
      expect(await raw.smembers(dataKey(store, wrong))).toEqual(['member']); // left as it was

      // a read or a pop over that key fails naming it; a pop's other parts are removed, and the error says so
      await expect(store.get(keys)).rejects.toThrow(new RegExp(`key ${wrong} is held in Redis as a set, not a list`));
      const pop = store.pop(keys);
      await expect(pop).rejects.toThrow(new RegExp(`key ${wrong} is held .* 2 of 3 parts \\(${applied.length} of 30 keys\\) were applied`));
      expect(await listsOf(others.map((k) => dataKey(store, k)))).toEqual(others.map((k) => (applied.includes(k) ? '' : '1')));
    } finally {
      await raw.del(dataKey(store, 'k7'));
      await store.drop();
      await store.close();
      raw.disconnect();
    }
  });

  it("another instance never sees part of one primary's part: keys on one primary always hold as many calls", async () => {
    const options = { name: `shard${++names}`, segmentBytes: 1 };
    const [writer, reader] = [new Redis({ cluster: cluster.startNodes }, options), new Redis({ cluster: cluster.startNodes }, options)];
    const keys = ids(30);
    try {
      const ports = await portsOf(keys.map((k) => dataKey(writer, k)));
      const pending: Promise<void>[] = [];
      for (let c = 0; c < 100; c++) pending.push(writer.append(keys.map((k) => [k, b('...')] as const)));
      const writes = Promise.all(pending);
      let done = false;
      void writes.then(() => (done = true));
      const seen: number[][] = [];
      while (!done) seen.push((await reader.get(keys)).map((v) => v.length / 3));
      await writes;
      seen.push((await reader.get(keys)).map((v) => v.length / 3));
      for (const counts of seen)
        for (const port of new Set(ports)) expect(new Set(counts.filter((_, i) => ports[i] === port)).size).toBe(1);
      expect(seen.at(-1)).toEqual(keys.map(() => 100));
    } finally {
      await writer.drop();
      await Promise.all([writer.close(), reader.close()]);
    }
  });
});

describe('round trips are bounded by the primaries, not the keys', () => {
  it('append, get, pop and delete of 1000 keys: one script on each primary (INFO commandstats)', async () => {
    const store = new Redis({ cluster: cluster.startNodes }, { name: `shard${++names}` });
    try {
      const keys = ids(1000);
      const ports = await portsOf(keys.map((k) => dataKey(store, k)));
      const onNode = (port: number) => ports.filter((p) => p === port).length;
      const data = keys.map((k) => [k, b(`v${k}`)] as const);
      await store.get('k0'); // connected, its slot map known
      const commands = ['eval', 'evalsha', 'rpush', 'lrange', 'unlink', 'multi'];
      const each = (eval_: number, perKey: string) => (port: number) =>
        Object.fromEntries(commands.map((c) => [c, c === 'eval' ? eval_ : c === perKey ? onNode(port) : 0]));
      const expectRan = (ran: Map<number, Record<string, number>>, want: (port: number) => Record<string, number>) => {
        for (const [port, counts] of ran) expect(counts).toEqual(want(port));
      };
      expectRan(await ranDuring(commands, () => store.append(data)), each(1, 'rpush'));
      let got: Uint8Array[] = [];
      expectRan(await ranDuring(commands, async () => (got = await store.get(keys))), each(1, 'lrange'));
      expect(got.map(String)).toEqual(keys.map((k) => `v${k}`));
      expectRan(await ranDuring(commands, () => store.delete(keys)), each(1, 'unlink'));
      expect(await listsOf(keys.slice(0, 50).map((k) => dataKey(store, k)))).toEqual(keys.slice(0, 50).map(() => ''));
      await store.append(data);
      expectRan(await ranDuring(commands, async () => (got = await store.pop(keys))), (port) => ({
        ...each(1, 'lrange')(port),
        unlink: onNode(port),
      }));
      expect(got.map(String)).toEqual(keys.map((k) => `v${k}`));
    } finally {
      await store.drop();
      await store.close();
    }
  });
});

describe('keys whose slot moved under the store', () => {
  /** Moves `slot`, and its keys, from the primary on port `from` to the one on `to` (as redis-cli --cluster reshard does). */
  async function moveSlot(slot: number, from: number, to: number): Promise<void> {
    const [source, target] = [nodes.get(from)!, nodes.get(to)!];
    const [sourceId, targetId] = (await Promise.all([source.cluster('MYID'), target.cluster('MYID')])) as string[];
    await target.cluster('SETSLOT', slot, 'IMPORTING', sourceId!);
    await source.cluster('SETSLOT', slot, 'MIGRATING', targetId!);
    for (;;) {
      const keys = (await source.cluster('GETKEYSINSLOT', slot, 100)) as string[];
      if (keys.length === 0) break;
      await source.migrate('127.0.0.1', to, '', 0, 5000, 'KEYS', ...keys);
    }
    for (const n of nodes.values()) await n.cluster('SETSLOT', slot, 'NODE', targetId!);
  }

  it('a part sent to the primary that no longer holds a key is refused whole, regrouped and sent again', async () => {
    const store = new Redis({ cluster: cluster.startNodes }, { name: `shard${++names}` });
    try {
      const keys = ids(30);
      await store.append(keys.map((k) => [k, b('1')] as const)); // the store's slot map is now known
      const ports = await portsOf(keys.map((k) => dataKey(store, k)));
      const moved = keys[5]!;
      const from = ports[5]!;
      const to = [...nodes.keys()].find((p) => p !== from)!;
      const any = [...nodes.values()][0]!;
      await moveSlot((await any.cluster('KEYSLOT', dataKey(store, moved))) as number, from, to);
      await cluster.waitOk();

      const refused = async () => {
        let n = 0;
        for (const node of nodes.values())
          for (const m of (await node.info('commandstats')).matchAll(/^cmdstat_eval:.*failed_calls=(\d+)/gm)) n += Number(m[1]);
        return n;
      };
      const before = await refused();
      await store.append(keys.map((k) => [k, b('2')] as const));
      expect(await refused()).toBeGreaterThan(before); // the stale part was refused by Redis, then sent again
      expect((await portsOf([dataKey(store, moved)]))[0]).toBe(to);
      expect(await listsOf(keys.map((k) => dataKey(store, k)))).toEqual(keys.map(() => '12'));
      expect((await store.get(keys)).map(String)).toEqual(keys.map(() => '12'));
    } finally {
      await store.drop();
      await store.close();
    }
  }, 30_000);
});
