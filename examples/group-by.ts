/**
 * `groupBy` on worker threads: the records are made inside the workers (`make: (i) => record`,
 * this module's `sale`), hash-partitioned by `region`, and reduced per key — count, sum, max.
 * Run: `npm run build && node dist/examples/group-by.js`.
 */
import { isMainThread } from 'node:worker_threads';
import { groupBy } from '../src/index.js';

const REGIONS = ['north', 'south', 'east', 'west'];

/** Sale number i; each worker calls it for the indexes of its splits. */
export const sale = (i: number) => ({ id: i, region: REGIONS[i % 4]!, amount: (i % 100) + 1 });

// The workers import this module to find `sale`: only the main thread runs the job.
if (isMainThread) {
  const groups = await groupBy({
    input: { make: { module: import.meta.url, export: 'sale' }, count: 1_000_000 },
    key: 'region',
    partitions: 8,
    workers: 2,
    aggregate: { n: { op: 'count' }, total: { op: 'sum', field: 'amount' }, biggest: { op: 'max', field: 'amount' } },
  });
  for (const [region, row] of [...groups].sort()) console.log(`${region}: ${row.n} sales, total ${row.total}, biggest ${row.biggest}`);
  console.log(`${groups.stats!.records} records in ${groups.stats!.splits} splits on ${groups.stats!.workers} workers`);
}
