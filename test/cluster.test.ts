/**
 * The distributed engine on real servers started here: 3 `partd worker` processes (separate OS
 * processes, as separate machines) on one Redis server, and on a Cluster of 3 primaries + 3
 * replicas. `groupBy`, `iterateGroups` and `shuffle` through them equal a reference computed
 * here from the records, for every input kind and P = 1, 7, 128; a job's keys are gone at its end.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis as IORedis } from 'ioredis';
import { BadRecordError, groupBy, iterateGroups, NoWorkersError, shuffle, type ShuffleHandle, type ShuffleInput } from '../src/index.js';
import { partitionOf } from '../src/shuffle/partitioner.js';
import { startCluster, startRedis, type RedisCluster, type RedisProcess } from './support/redis-server.js';
import { startWorkers, WorkerProcess } from './support/cluster-workers.js';
import { fixture } from './support/child.js';
import { partd } from './support/cli.js';

const modules = fixture('shuffle-modules.mjs');
const N = 20_000;
type Rec = { id: number; key: string; amount: number; tag: string };
const TAGS = ['a', 'b', 'c'];
const rec = (i: number): Rec => ({ id: i, key: `k${(i * 7) % 50}`, amount: (i % 13) - 3, tag: TAGS[i % 3]! });
const all = Array.from({ length: N }, (_, i) => rec(i));

let server: RedisProcess;
let workers: WorkerProcess[];
let dir: string;
let files: { ndjson: string; csv: string };
beforeAll(async () => {
  server = await startRedis();
  workers = await startWorkers(3, server.url);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'partd-cluster-'));
  files = { ndjson: path.join(dir, 'in.ndjson'), csv: path.join(dir, 'in.csv') };
  fs.writeFileSync(files.ndjson, all.map((r) => JSON.stringify(r) + '\n').join(''));
  fs.writeFileSync(files.csv, 'id,key,amount,tag\n' + all.map((r) => `${r.id},${r.key},${r.amount},${r.tag}\n`).join(''));
}, 60_000);
afterAll(async () => {
  await Promise.all([...(workers ?? []).map((w) => w.stop()), server?.stop()]);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const inputs: [string, () => ShuffleInput][] = [
  ['generate', () => ({ generate: { module: modules, export: 'records' }, count: N })],
  ['make', () => ({ make: { module: modules, export: 'record' }, count: N })],
  ['ndjson', () => ({ ndjson: files.ndjson })],
  ['csv', () => ({ csv: files.csv })],
  ['records', () => ({ records: all })],
];

/** The reference: count, sum, min and max of amount per key, from the records themselves. */
function reference(): Map<string, { key: string; n: number; s: number; lo: number; hi: number }> {
  const out = new Map<string, { key: string; n: number; s: number; lo: number; hi: number }>();
  for (const r of all) {
    const g = out.get(r.key) ?? { key: r.key, n: 0, s: 0, lo: Infinity, hi: -Infinity };
    g.n++;
    g.s += r.amount;
    g.lo = Math.min(g.lo, r.amount);
    g.hi = Math.max(g.hi, r.amount);
    out.set(r.key, g);
  }
  return out;
}
const aggregate = {
  n: { op: 'count' },
  s: { op: 'sum', field: 'amount' },
  lo: { op: 'min', field: 'amount' },
  hi: { op: 'max', field: 'amount' },
} as const;

/** The ids `h.iterate(p)` yields, in order. */
async function iterated(h: ShuffleHandle<Rec>, p: number): Promise<number[]> {
  const ids: number[] = [];
  for await (const batch of h.iterate(p)) for (const r of batch) ids.push(r.id);
  return ids;
}

/** The keys of the job's that remain in Redis (BullMQ's and the worker registry aside). */
async function jobKeys(url: string): Promise<string[]> {
  const r = new IORedis(url);
  try {
    return (await r.keys('partd:*')).sort();
  } finally {
    r.disconnect();
  }
}

describe('on one Redis server, 3 worker processes', () => {
  const cluster = () => ({ redis: server.url });

  describe.each(inputs)('%s input', (_, input) => {
    it.each([1, 7, 128])('groupBy with P = %i equals the reference, and leaves no key', async (P) => {
      const source = input();
      const splits = 'records' in source ? undefined : 6; // a records input is cut as it is read
      const groups = await groupBy({ input: source, key: 'key', partitions: P, splits, aggregate, cluster: cluster() });
      expect(new Map([...groups].map(([k, row]) => [k, { ...row }]))).toEqual(reference());
      expect(groups.stats!.records).toBe(N);
      expect(await jobKeys(server.url)).toEqual([]);
    });
  });

  it('iterateGroups streams the same groups, each once', async () => {
    const seen = new Map<string | number, unknown>();
    for await (const [k, row] of iterateGroups({ input: inputs[0]![1](), key: 'key', partitions: 16, aggregate, cluster: cluster() })) {
      expect(seen.has(k)).toBe(false);
      seen.set(k, { ...row });
    }
    expect(seen).toEqual(reference());
  });

  it.each([1, 7, 128])('shuffle with P = %i: each partition holds exactly its records; gather runs a reducer on the workers', async (P) => {
    const h = await shuffle<Rec>({ input: { csv: files.csv }, key: 'key', partitions: P, cluster: cluster() });
    try {
      const expected = Array.from({ length: P }, (): number[] => []);
      for (const r of all) expected[partitionOf(r.key, P)]!.push(r.id);
      for (let p = 0; p < P; p++) {
        const got = (await h.get(p)).map((r) => r.id);
        expect([...got].sort((a, b) => a - b)).toEqual(expected[p]);
        expect(await iterated(h, p)).toEqual(got); // streamed split by split: the same records in the same order
      }
      const gathered = await h.gather<{ partition: number; ids: number[] }>({ module: modules, export: 'countIds' });
      expect(gathered.map((g) => g.ids)).toEqual(expected);
      expect(() => h.store).toThrow(/blocks in Redis/);
    } finally {
      await h.close();
    }
    expect(await jobKeys(server.url)).toEqual([]);
  });

  it('a bad record fails the job with the same error, naming file and line, and leaves no key', async () => {
    const bad = path.join(dir, 'bad.ndjson');
    fs.writeFileSync(bad, '{"key":"a","amount":1}\n{"key":"b","amount":2}\n{"key":\n');
    const options = { input: { ndjson: bad }, key: 'key', partitions: 3, aggregate };
    const local = (await groupBy(options).catch((e: unknown) => e as Error)) as Error;
    const remote = (await groupBy({ ...options, cluster: cluster() }).catch((e: unknown) => e as Error)) as Error;
    expect(remote).toBeInstanceOf(BadRecordError);
    expect(remote.message).toBe(local.message);
    expect(remote.message).toMatch(/bad\.ndjson line 3/);
    expect(await jobKeys(server.url)).toEqual([]);
  });

  it('a job with no worker on its queue fails, naming the command to start one', async () => {
    const err = (await groupBy({
      input: inputs[0]![1](),
      key: 'key',
      aggregate,
      cluster: { redis: server.url, queue: 'nobody', workerWait: 0 },
    }).catch((e: unknown) => e as Error)) as Error;
    expect(err).toBeInstanceOf(NoWorkersError);
    expect(err.message).toMatch(/partd worker --redis URL --queue nobody/);
    expect(await jobKeys(server.url)).toEqual([]);
  });

  it('partd groupby --redis prints the lines the local command prints', async () => {
    const args = ['groupby', files.csv, '--key', 'key', '--count', '--sum', 'amount', '--partitions', '7', '--quiet'];
    const local = await partd(args);
    const remote = await partd([...args, '--redis', server.url]);
    expect(remote.code).toBe(0);
    expect(remote.stdout.split('\n').sort()).toEqual(local.stdout.split('\n').sort());
    expect(remote.stdout.split('\n').filter(Boolean)).toHaveLength(50);
    expect(remote.stderr).toMatch(/20,000 records/);
  });

  it('partd shuffle --redis writes the partitions the local command writes', async () => {
    const out = (name: string) => path.join(dir, name);
    const args = (to: string) => ['shuffle', files.ndjson, '--key', 'key', '--partitions', '5', '--quiet', '--out', to];
    fs.mkdirSync(out('local'));
    fs.mkdirSync(out('remote'));
    expect((await partd(args(out('local')))).code).toBe(0);
    expect((await partd([...args(out('remote')), '--redis', server.url])).code).toBe(0);
    for (const f of fs.readdirSync(out('local'))) {
      const lines = (d: string) =>
        fs
          .readFileSync(path.join(out(d), f), 'utf8')
          .split('\n')
          .sort();
      expect(lines('remote')).toEqual(lines('local'));
    }
  });

  it('the CLI refuses --queue without --redis, and stdin with --redis (exit 2)', async () => {
    const noRedis = await partd(['groupby', files.csv, '--key', 'key', '--queue', 'q']);
    expect(noRedis.code).toBe(2);
    expect(noRedis.stderr).toMatch(/--queue: give --redis too/);
    const stdin = await partd(['groupby', '-', '--format', 'csv', '--key', 'key', '--redis', server.url], { input: 'key\na\n' });
    expect(stdin.code).toBe(2);
    expect(stdin.stderr).toMatch(/--redis: stdin/);
    const bad = await partd(['worker', '--redis', 'http://x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--redis: expected redis:\/\//);
  });

  it('partd worker stops on SIGINT once its tasks are done, and exits 0', async () => {
    const w = new WorkerProcess(['--redis', server.url, '--queue', 'stopping']);
    await w.start();
    const exited = new Promise<number | null>((resolve) => w.onExit(resolve));
    w.signal('SIGINT');
    expect(await exited).toBe(0);
    expect(w.log).toMatch(/stopping: running tasks finish/);
  });

  it('a module a worker cannot import fails the job, naming the worker', async () => {
    const [lost] = await startWorkers(1, server.url, ['--queue', 'unimportable'], { PARTD_TEST_UNIMPORTABLE: '1' });
    try {
      const err = (await groupBy({
        input: { generate: { module: fixture('cluster-unimportable.mjs'), export: 'records' }, count: 100 },
        key: 'key',
        aggregate,
        retries: 1,
        cluster: { redis: server.url, queue: 'unimportable' },
      }).catch((e: unknown) => e as Error)) as Error;
      expect(err.message).toMatch(/failed after 2 attempts/);
      expect(err.message).toMatch(/this module is not here \(on worker .* pid \d+\)/);
    } finally {
      await lost!.stop();
    }
    expect(await jobKeys(server.url)).toEqual([]);
  });

  it('refuses bad cluster options before any work', async () => {
    await expect(groupBy({ input: inputs[0]![1](), key: 'key', aggregate, cluster: { redis: server.url, queue: 'a b' } })).rejects.toThrow(
      /cluster\.queue/,
    );
    await expect(
      groupBy({ input: inputs[0]![1](), key: 'key', aggregate, cluster: { redis: server.url, extra: 1 } as never }),
    ).rejects.toThrow(/unknown option "extra"/);
    await expect(groupBy({ input: inputs[0]![1](), key: 'key', aggregate, store: 'a/b', cluster: { redis: server.url } })).rejects.toThrow(
      /^store: /,
    );
  });
});

describe('on a Redis Cluster (3 primaries + 3 replicas), 3 worker processes', () => {
  let rc: RedisCluster;
  let cw: WorkerProcess[];
  beforeAll(async () => {
    rc = await startCluster();
    const nodes = rc.startNodes.map((n) => `${n.host}:${n.port}`).join(',');
    cw = await startWorkers(3, `redis-cluster://${nodes}`);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([...(cw ?? []).map((w) => w.stop()), rc?.stop()]);
  });

  it.each([7, 128])('groupBy (CSV) with P = %i equals the reference', async (P) => {
    const groups = await groupBy({
      input: { csv: files.csv },
      key: 'key',
      partitions: P,
      splits: 6,
      aggregate,
      cluster: { redis: { cluster: rc.startNodes } },
    });
    expect(new Map([...groups].map(([k, row]) => [k, { ...row }]))).toEqual(reference());
  });

  it('shuffle of a records input: every record once, in its partition', async () => {
    const P = 7;
    const h = await shuffle<Rec>({ input: { records: all }, key: 'key', partitions: P, cluster: { redis: { cluster: rc.startNodes } } });
    try {
      for (let p = 0; p < P; p++) {
        const want = all.filter((r) => partitionOf(r.key, P) === p).map((r) => r.id);
        const got = (await h.get(p)).map((r) => r.id);
        expect([...got].sort((a, b) => a - b)).toEqual(want);
        expect(await iterated(h, p)).toEqual(got);
      }
    } finally {
      await h.close();
    }
  });
});
