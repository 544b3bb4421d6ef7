/**
 * A distributed groupBy: `partd worker` processes on any number of machines take the job's
 * tasks from a queue on Redis; the job runs from anywhere. Here two workers run in this process
 * (`startWorker` is what `partd worker` runs), as two machines would, each on its own thread.
 * Run it with a server's URL: `node dist/examples/cluster.js redis://127.0.0.1:6379`.
 */
import { isMainThread } from 'node:worker_threads';
import { groupBy, startWorker } from '../src/index.js';

const REGIONS = ['north', 'south', 'east', 'west'];

/** Sale number i: the workers import this module to make the records of their splits. */
export const sale = (i: number) => ({ id: i, region: REGIONS[i % 4]!, amount: (i % 100) + 1 });

if (isMainThread) {
  const url = process.argv[2] ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  // On real machines: `partd worker --redis redis://host:6379 --threads 4` on each.
  const workers = [startWorker({ redis: url, queue: 'example' }), startWorker({ redis: url, queue: 'example' })];
  try {
    await Promise.all(workers.map((w) => w.ready));
    const groups = await groupBy({
      input: { make: { module: import.meta.url, export: 'sale' }, count: 400_000 },
      key: 'region',
      partitions: 8,
      aggregate: { n: { op: 'count' }, total: { op: 'sum', field: 'amount' } },
      cluster: { redis: url, queue: 'example' },
    });
    for (const [region, row] of [...groups].sort()) console.log(`${region}: ${row.n} sales, total ${row.total}`);
    console.log(`${groups.stats!.records} records in ${groups.stats!.splits} splits, through Redis`);
  } finally {
    await Promise.all(workers.map((w) => w.close()));
  }
}
