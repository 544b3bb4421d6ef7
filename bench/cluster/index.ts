/**
 * `bench -- cluster` (issue 17): the distributed engine against the local one, in one run. W1 on
 * the `Redis` store (one server, and a 3 + 3 Cluster started by the tests' helper) beside `Lmdb`; W2 (groupBy) and W5 (the full shuffle) on 1, 2 and 3
 * `partd worker` processes (one thread each) through one redis-server, beside the local engine
 * with 2 worker threads: seconds, records/s, and per row the MB through Redis; then Redis' and
 * the workers' peak RSS.
 */
import { Lmdb, Redis } from '../../src/index.js';
import { expected } from '../checksum.js';
import { isolated } from '../isolated.js';
import { median, report, type Result, type Row } from '../report.js';
import { interleave, ratioOf, rowMaker, rowsOf, type Config, type Ratio } from '../rounds.js';
import { W1, runW1 } from '../w1.js';
import { W2_KEYS } from '../w2/records.js';
import { P } from '../w5/rows.js';
import { peakRssOf, startRedisServer, startWorkers } from './servers.js';
import { startCluster } from '../../test/support/redis-server.js';

const ENGINE = new URL('../engine.js', import.meta.url);
const W5_ROWS = new URL('../w5/rows.js', import.meta.url);
const MB = 1e6;

/** The cluster workload's rows in `rounds` interleaved rounds, and its ratios. */
export async function runCluster(n: number, rounds = 3): Promise<Result> {
  const redis = await startRedisServer();
  const workers = new Map<number, number[]>();
  try {
    for (const k of [1, 2, 3])
      workers.set(
        k,
        (await startWorkers(k, redis.url, `bench${k}`)).map((c) => c.pid!),
      );
    const cluster = await startCluster(); // the tests' 3 primaries + 3 replicas
    const w1 = [
      await runW1('W1: Lmdb() (temporary)', () => new Lmdb(), W1),
      await runW1('W1: Redis (one server, temporary)', () => new Redis(redis.url), W1),
      await runW1('W1: Redis Cluster 3+3 (temporary, keys over the shards)', () => new Redis({ cluster: cluster.startNodes }), W1),
    ];
    await cluster.stop();
    report('cluster: W1 (1000 keys x 100 B x 2000 rounds)', w1);

    const net = () => {
      const s = redis.info('stats');
      return Number(s.total_net_input_bytes) + Number(s.total_net_output_bytes);
    };
    const through = new Map<string, number[]>();
    const counted = (c: Config): Config => ({
      ...c,
      run: async () => {
        const before = net();
        const out = await c.run();
        through.set(c.id, [...(through.get(c.id) ?? []), (net() - before) / MB]);
        return out;
      },
    });
    const w2row = rowMaker(n, expected(n, W2_KEYS));
    const w5row = rowMaker(n, expected(n, W2_KEYS, P));
    const configs: Config[] = [
      w2row('w2-local', 'W2 groupBy, local engine, 2 threads', isolated(ENGINE, 'grouped', n, W2_KEYS, 2)),
      ...[1, 2, 3].map((k) =>
        counted(
          w2row(
            `w2-c${k}`,
            `W2 groupBy, ${k} partd worker${k > 1 ? 's' : ''} through Redis`,
            isolated(ENGINE, 'grouped', n, W2_KEYS, 1, 'generate', { redis: redis.url, queue: `bench${k}` }),
            'w2-local',
          ),
        ),
      ),
      w5row('w5-local', 'W5 full shuffle, local engine, 2 threads', isolated(W5_ROWS, 'fullShuffle', n, 2)),
      ...[1, 2, 3].map((k) =>
        counted(
          w5row(
            `w5-c${k}`,
            `W5 full shuffle, ${k} partd worker${k > 1 ? 's' : ''} through Redis`,
            isolated(W5_ROWS, 'fullShuffle', n, 1, { redis: redis.url, queue: `bench${k}` }),
            'w5-local',
          ),
        ),
      ),
    ];
    const runs = await interleave('cluster', configs, rounds);
    const rows: Row[] = rowsOf(configs, runs).map((r, i) => {
      const mb = through.get(configs[i]!.id);
      return { ...r, MB_through_redis: mb ? median(mb) : null };
    });
    const memory = redis.info('memory');
    report('cluster: peak RSS of the processes', [
      {
        name: 'redis-server',
        peak_rss_MiB: Math.round(peakRssOf(redis.pid) / 2 ** 20),
        used_memory_peak_MiB: Math.round(Number(memory.used_memory_peak) / 2 ** 20),
      },
      ...[...workers].flatMap(([k, pids]) =>
        pids.map((pid, j) => ({
          name: `partd worker ${j + 1} of ${k}`,
          peak_rss_MiB: Math.round(peakRssOf(pid) / 2 ** 20),
          used_memory_peak_MiB: null,
        })),
      ),
    ]);
    const speedup = (a: string, b: string) => ratioOf(runs, a, b, (x, y) => y.seconds / x.seconds)!;
    const ratios: Ratio[] = [
      { label: 'cluster W1: Redis ÷ Lmdb, append seconds', value: (w1[1]!.append_s as number) / (w1[0]!.append_s as number) },
      { label: 'cluster W1: Redis Cluster ÷ Lmdb, append seconds', value: (w1[2]!.append_s as number) / (w1[0]!.append_s as number) },
      ...(['w2', 'w5'] as const).flatMap((w) => [
        { label: `cluster ${w.toUpperCase()}: 2 workers through Redis ÷ local 2 threads`, value: ratioOf(runs, `${w}-c2`, `${w}-local`)! },
        { label: `cluster ${w.toUpperCase()}: 1→3 workers' speedup`, value: speedup(`${w}-c3`, `${w}-c1`), better: 'higher' as const },
      ]),
    ];
    return { rows, ratios };
  } finally {
    // the workers would retry the stopped Redis forever, and their pipes keep this process alive
    for (const pids of workers.values()) for (const pid of pids) process.kill(pid, 'SIGKILL');
    redis.stop();
  }
}
