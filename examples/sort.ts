/**
 * `sort` on worker threads: 200,000 orders made inside the workers (`make: (i) => record`, this
 * module's `order`), sorted by a tuple key — region, then the largest amount first — into one
 * global order across 8 range partitions. Ties keep input order.
 * Run: `npm run build && node dist/examples/sort.js`.
 */
import { isMainThread } from 'node:worker_threads';
import { sort, type SortStats } from '../src/index.js';

const REGIONS = ['north', 'south', 'east', 'west'];

/** Order number i; each worker calls it for the indexes of its splits. */
export const order = (i: number) => ({ id: i, region: REGIONS[i % 4]!, amount: ((i * 37) % 1000) / 10 });

/** The sort key, run in the workers: a tuple compares element by element (strings by code point). */
export const regionThenLargest = (o: ReturnType<typeof order>) => [o.region, -o.amount];

// The workers import this module to find `order`: only the main thread runs the job.
if (isMainThread) {
  let stats: SortStats | undefined;
  const sorted = sort<ReturnType<typeof order>>(
    {
      input: { make: { module: import.meta.url, export: 'order' }, count: 200_000 },
      key: { module: import.meta.url, export: 'regionThenLargest' },
      partitions: 8,
      workers: 2,
    },
    (s) => (stats = s),
  );
  let n = 0;
  let last: ReturnType<typeof order> | undefined;
  for await (const o of sorted) {
    if (n++ < 3) console.log(`#${n}: order ${o.id}, ${o.region}, ${o.amount}`);
    last = o;
  }
  console.log(`#${n}: order ${last!.id}, ${last!.region}, ${last!.amount}`);
  console.log(`${stats!.records} orders sorted in ${stats!.partitions} partitions on ${stats!.workers} workers`);
}
