/**
 * The distributed engine's faults, on real processes: `partd worker`s killed (SIGKILL) mid-scatter
 * and mid-gather, one stopped (SIGSTOP) past its lock and let go again, a Redis Cluster primary
 * killed mid-job (a failover, which may lose acknowledged writes), blocks lost or corrupted in
 * Redis before the gather or found so mid-iterate (the same outcome as get), the coordinator
 * killed and the job run again, Redis restarted empty mid-job, and `maxmemory` reached. Every run's result equals the reference exactly, or the job
 * fails with the fault named; none returns a wrong result. The seeded runs are counted below.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis as IORedis, Cluster } from 'ioredis';
import {
  BlockLostError,
  groupBy,
  JobLostError,
  RedisOutOfMemoryError,
  shuffle,
  type ClusterOptions,
  type Progress,
  type ShuffleHandle,
} from '../src/index.js';
import { partitionOf } from '../src/shuffle/partitioner.js';
import { startCluster, startRedis, type RedisCluster, type RedisProcess } from './support/redis-server.js';
import { startWorkers, WorkerProcess } from './support/cluster-workers.js';
import { fixture, runNode } from './support/child.js';
import { prng } from './support/faults.js';

const modules = fixture('cluster-modules.mjs');
const TAGS = ['a', 'b', 'c'];
const rec = (i: number) => ({ id: i, key: `k${(i * 7919) % 997}`, amount: (i % 13) - 3, tag: TAGS[i % 3]! });
const N = 60_000;
const PAUSE = { PARTD_TEST_PAUSE_MS: '40' }; // 40 ms per 1000 records: a job of about a second on 3 workers
const LOCK = ['--lock-ms', '1500'];
const aggregate = { n: { op: 'count' }, s: { op: 'sum', field: 'amount' } } as const;
const input = (count = N) => ({ generate: { module: modules, export: 'slowRecords' }, count });
let runs = 0;
afterAll(() => console.log(`cluster faults: ${runs} seeded runs, every result exact (or the fault named)`));

function reference(count = N): Map<string, { key: string; n: number; s: number }> {
  const out = new Map<string, { key: string; n: number; s: number }>();
  for (let i = 0; i < count; i++) {
    const r = rec(i);
    const g = out.get(r.key) ?? { key: r.key, n: 0, s: 0 };
    g.n++;
    g.s += r.amount;
    out.set(r.key, g);
  }
  return out;
}
const rows = (groups: Map<string | number, object>) => new Map([...groups].map(([k, row]) => [k, { ...row }]));

/** The job's keys left in Redis (BullMQ's and the worker registry aside). */
async function leftovers(url: string): Promise<string[]> {
  const r = new IORedis(url);
  try {
    return await r.keys('partd:*');
  } finally {
    r.disconnect();
  }
}

/** The job's keys, polled every 200 ms until none is left or 10 s have passed (a worker's attempt in flight may still be deleting its own). */
async function settledLeftovers(url: string): Promise<string[]> {
  let keys = await leftovers(url);
  for (const deadline = Date.now() + 10_000; keys.length > 0 && Date.now() < deadline; keys = await leftovers(url))
    await new Promise((r) => setTimeout(r, 200));
  return keys;
}

/** The ids of the first `count` records in each of P partitions, in input order. */
function partitionIds(count: number, P: number): number[][] {
  const out = Array.from({ length: P }, (): number[] => []);
  for (let i = 0; i < count; i++) out[partitionOf(rec(i).key, P)]!.push(i);
  return out;
}

/**
 * The seeded groupBy of N records (16 partitions, 24 splits) on `redis`, with `fault()` run
 * once `after` splits are committed: its groups as rows, or its error.
 */
async function faultedGroupBy(
  redis: ClusterOptions['redis'],
  after: number,
  fault: () => Promise<void>,
): Promise<Map<string | number, object>> {
  const w = watch((p) => p.phase === 'scatter' && p.splitsDone >= after);
  const job = groupBy({ input: input(), key: 'key', partitions: 16, splits: 24, aggregate, cluster: { redis }, progress: w.progress });
  job.catch(() => undefined); // awaited below, once the fault is in
  await Promise.race([w.reached, job]);
  await fault();
  return rows(await job);
}

type Shuffled = ShuffleHandle<{ id: number; key: string }>;

/** A shuffle of 20,000 records into 4 partitions from 6 splits on `url`. */
const shuffled = (url: string, retries?: number): Promise<Shuffled> =>
  shuffle({ input: input(20_000), key: 'key', partitions: 4, splits: 6, retries, cluster: { redis: url } });

/** The ids `h.iterate(p)` yields, in order. */
async function iterated(h: Shuffled, p: number): Promise<number[]> {
  const ids: number[] = [];
  for await (const batch of h.iterate(p)) for (const x of batch) ids.push(x.id);
  return ids;
}

type StoredCommit = { token: string; blocks: [partition: number, key: string, size: number, crc: number][] };

/** The commits in Redis of the one job under way, by split. */
async function commitsIn(redis: IORedis): Promise<Map<number, StoredCommit>> {
  const [key] = await redis.keys('partd:{j:*}:commits');
  const fields = await redis.hgetall(key!);
  return new Map(Object.entries(fields).map(([split, text]) => [Number(split), JSON.parse(text) as StoredCommit]));
}

/** A split holding blocks of partition `p` other than the first such (`pick` in [0, 1) chooses): records of `p` come before it. */
function laterHolder(commits: Map<number, StoredCommit>, p: number, pick: number): number {
  const holders = [...commits].filter(([, c]) => c.blocks.some((b) => b[0] === p)).map(([split]) => split);
  holders.sort((a, b) => a - b);
  return holders[1 + Math.floor(pick * (holders.length - 1))]!;
}

/** Deletes, or overwrites in place (a wrong CRC-32), the first block of partition `p` in `commit`. */
async function spoil(redis: IORedis, commit: StoredCommit, p: number, how: 'delete' | 'corrupt'): Promise<void> {
  const key = commit.blocks.find((b) => b[0] === p)![1];
  await (how === 'delete' ? redis.del(key) : redis.setrange(key, 7, 'XX'));
}

/** Resolves once `progress` has seen `when`. */
function watch(when: (p: Progress) => boolean): { progress: (p: Progress) => void; reached: Promise<void> } {
  let hit!: () => void;
  const reached = new Promise<void>((r) => (hit = r));
  return { progress: (p) => void (when(p) && hit()), reached };
}

describe('worker processes killed and stopped, on one Redis server', () => {
  let server: RedisProcess;
  let workers: WorkerProcess[];
  beforeAll(async () => {
    server = await startRedis();
    workers = await startWorkers(3, server.url, LOCK, PAUSE);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([...(workers ?? []).map((w) => w.stop()), server?.stop()]);
  });

  /** Replaces worker `i` (killed or stopped) with a new one. */
  const replace = async (i: number) => {
    await workers[i]!.kill();
    workers[i] = (await startWorkers(1, server.url, LOCK, PAUSE))[0]!;
  };

  it.each([1, 2, 3, 4, 5, 6, 7, 8])('seed %i: a worker killed mid-scatter; the job completes exactly', async (seed) => {
    const r = prng(seed);
    const victim = Math.floor(r() * 3);
    const after = 1 + Math.floor(r() * 10);
    expect(await faultedGroupBy(server.url, after, () => replace(victim))).toEqual(reference());
    expect(await leftovers(server.url)).toEqual([]);
    runs++;
  });

  it.each([1, 2, 3, 4, 5, 6])('seed %i: a worker killed mid-gather; every partition gathered once, exactly', async (seed) => {
    const r = prng(100 + seed);
    const victim = Math.floor(r() * 3);
    const P = 12;
    const h = await shuffle<{ id: number; key: string }>({
      input: input(20_000),
      key: 'key',
      partitions: P,
      cluster: { redis: server.url },
    });
    try {
      const gathered = h.gather<{ partition: number; ids: number[] }>({ module: modules, export: 'slowIds' });
      await new Promise((ok) => setTimeout(ok, 50 + Math.floor(r() * 250)));
      await replace(victim);
      expect((await gathered).map((g) => g.ids)).toEqual(partitionIds(20_000, P));
    } finally {
      await h.close();
    }
    runs++;
  });

  it.each([1, 2, 3, 4])('seed %i: a worker stopped past its lock, then let go: its late commit is refused', async (seed) => {
    const r = prng(200 + seed);
    const victim = Math.floor(r() * 3);
    const after = Math.floor(r() * 6);
    const groups = await faultedGroupBy(server.url, after, async () => {
      workers[victim]!.signal('SIGSTOP');
      await new Promise((ok) => setTimeout(ok, 4000)); // past the 1.5 s lock: its task goes to another worker
      workers[victim]!.signal('SIGCONT');
    });
    expect(groups).toEqual(reference());
    await new Promise((ok) => setTimeout(ok, 1500)); // the late attempt finds the job gone and removes its blocks
    expect(await leftovers(server.url)).toEqual([]);
    runs++;
  });

  it.each([1, 2, 3])('seed %i: blocks deleted or corrupted in Redis before the gather are recomputed', async (seed) => {
    const r = prng(300 + seed);
    const P = 8;
    const h = await shuffle<{ id: number; key: string }>({
      input: input(20_000),
      key: 'key',
      partitions: P,
      splits: 6,
      cluster: { redis: server.url },
    });
    const redis = new IORedis(server.url);
    try {
      const blocks = (await redis.keys('partd:j:*:b:*')).sort();
      const hit = blocks.filter(() => r() < 0.3).concat(blocks[0]!);
      for (const [i, key] of hit.entries()) await (i % 2 ? redis.setrange(key, 7, 'XX') : redis.del(key));
      const expected = partitionIds(20_000, P);
      expect((await h.get(0)).map((x) => x.id).sort((a, b) => a - b)).toEqual(expected[0]);
      const gathered = await h.gather<{ ids: number[] }>({ module: modules, export: 'slowIds' });
      expect(gathered.map((g) => g.ids)).toEqual(expected);
    } finally {
      redis.disconnect();
      await h.close();
    }
    runs++;
  });

  it.each([1, 2, 3])('seed %i: a block found lost mid-iterate is recomputed; iterate yields exactly what get does', async (seed) => {
    const r = prng(700 + seed);
    const h = await shuffled(server.url);
    const redis = new IORedis(server.url);
    try {
      const p = Math.floor(r() * h.partitions);
      const before = await commitsIn(redis);
      const victim = laterHolder(before, p, r());
      const token = before.get(victim)!.token;
      await spoil(redis, before.get(victim)!, p, seed % 2 ? 'corrupt' : 'delete');
      const ids: number[] = [];
      for await (const batch of h.iterate(p)) {
        // the first split's records come before the loss is found: the victim is still its old commit
        if (ids.length === 0) expect((await commitsIn(redis)).get(victim)?.token).toBe(token);
        ids.push(...batch.map((x) => x.id));
      }
      expect((await commitsIn(redis)).get(victim)!.token).not.toBe(token); // scattered again
      expect(ids).toEqual((await h.get(p)).map((x) => x.id));
      expect([...ids].sort((a, b) => a - b)).toEqual(partitionIds(20_000, h.partitions)[p]);
    } finally {
      redis.disconnect();
      await h.close();
    }
    runs++;
  });

  it.each([1, 2])('seed %i: a split lost again past `retries` fails iterate as it fails get (BlockLostError)', async (seed) => {
    const r = prng(800 + seed);
    const p = Math.floor(r() * 4);
    const pick = r();
    const how = seed % 2 ? 'corrupt' : 'delete';
    /** Spoils a block of `p`, reads `p` (re-scattered: exact), spoils it again and reads: the error. */
    const outcome = async (read: (h: Shuffled, p: number) => Promise<number[]>): Promise<Error> => {
      const h = await shuffled(server.url, 0);
      const redis = new IORedis(server.url);
      try {
        const victim = laterHolder(await commitsIn(redis), p, pick);
        await spoil(redis, (await commitsIn(redis)).get(victim)!, p, how);
        expect((await read(h, p)).sort((a, b) => a - b)).toEqual(partitionIds(20_000, 4)[p]);
        await spoil(redis, (await commitsIn(redis)).get(victim)!, p, how);
        return await read(h, p).then(
          () => new Error('read a split lost twice with retries: 0'),
          (e: unknown) => e as Error,
        );
      } finally {
        redis.disconnect();
        await h.close();
      }
    };
    const viaGet = await outcome(async (h, p) => (await h.get(p)).map((x) => x.id));
    const viaIterate = await outcome(iterated);
    expect(viaGet).toBeInstanceOf(BlockLostError);
    expect(viaIterate).toBeInstanceOf(BlockLostError);
    const general = (e: Error) => e.message.replace(/block \S+:/, 'block …:'); // block keys name the job and the attempt
    expect(general(viaIterate)).toBe(general(viaGet));
    expect(viaGet.message).toMatch(/lost in Redis 2 times/);
    runs++;
  });

  it.each([1, 2, 3, 4])('seed %i: the coordinator killed mid-scatter; the same job run again resumes it exactly', async (seed) => {
    const r = prng(400 + seed);
    const after = 2 + Math.floor(r() * 12);
    const name = `resume-${seed}`;
    const first = await runNode(fixture('cluster-child.mjs'), [server.url, name, String(N)], (line, child) => {
      if (Number(/^committed (\d+)/.exec(line)?.[1] ?? -1) >= after) child.kill('SIGKILL');
    });
    expect(first.signal).toBe('SIGKILL');
    const again = await runNode(fixture('cluster-child.mjs'), [server.url, name, String(N)]);
    const result = JSON.parse(again.stdout.trim().split('\n').at(-1)!) as { groups: [string, object][]; resumed: number };
    expect(new Map(result.groups)).toEqual(reference());
    expect(result.resumed).toBeGreaterThan(0); // splits the killed run had committed were not read again
    expect(await leftovers(server.url)).toEqual([]);
    runs++;
  });
});

describe('Redis itself failing', () => {
  it.each([1, 2])('seed %i: Redis restarted empty mid-job: a clear failure, nothing returned', async (seed) => {
    const server = await startRedis();
    const workers = await startWorkers(2, server.url, LOCK, PAUSE);
    try {
      const after = 1 + Math.floor(prng(500 + seed)() * 5);
      await expect(faultedGroupBy(server.url, after, () => server.restart())).rejects.toBeInstanceOf(JobLostError);
      runs++;
    } finally {
      await Promise.all([...workers.map((x) => x.stop()), server.stop()]);
    }
  });

  it.each([1, 2])('seed %i: maxmemory reached mid-job fails it, named, and its keys are removed', async (seed) => {
    const server = await startRedis('--maxmemory', '4mb');
    const workers = await startWorkers(2, server.url, LOCK);
    try {
      const count = 150_000 + seed * 10_000; // ~4 MB of records: past maxmemory with the queue's own keys
      const job = shuffle({
        input: { generate: { module: modules, export: 'slowRecords' }, count },
        key: 'key',
        partitions: 16,
        splits: 12,
        cluster: { redis: server.url },
      });
      await expect(job).rejects.toBeInstanceOf(RedisOutOfMemoryError);
      // a worker's attempt in flight when the job ended may write its blocks after the sweep: it deletes them when its commit is refused
      expect(await settledLeftovers(server.url)).toEqual([]);
      runs++;
    } finally {
      await Promise.all([...workers.map((x) => x.stop()), server.stop()]);
    }
  });

  it.each([1, 2, 3])(
    'seed %i: a Cluster primary killed mid-job (failover): the result is exact',
    async (seed) => {
      const rc: RedisCluster = await startCluster();
      await rc.replicated(); // a replica that has not synced yet never takes over
      const nodes = rc.startNodes.map((n) => `${n.host}:${n.port}`).join(',');
      const workers = await startWorkers(3, `redis-cluster://${nodes}`, LOCK, PAUSE);
      try {
        const r = prng(600 + seed);
        const after = 1 + Math.floor(r() * 8);
        const groups = await faultedGroupBy({ cluster: rc.startNodes }, after, async () => {
          const primaries = rc.primaries();
          await primaries[Math.floor(r() * primaries.length)]!.kill();
        });
        expect(groups).toEqual(reference());
        const c = new Cluster(rc.startNodes);
        try {
          const left = (await Promise.all(c.nodes('master').map((n) => n.keys('partd:*')))).flat();
          expect(left).toEqual([]);
        } finally {
          c.disconnect();
        }
        runs++;
      } finally {
        await Promise.all([...workers.map((x) => x.stop()), rc.stop()]);
      }
    },
    120_000,
  );
});
