/** The distributed rows of `bench -- cluster`, each run in a process of its own (isolated.ts): W2's groupBy and W5's full shuffle through `partd worker` processes. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { iterateGroups, shuffle } from '../../src/index.js';
import { recordsInput } from '../engine.js';
import type { Outcome } from '../rounds.js';
import { W2_KEYS } from '../w2/records.js';
import { checksumOf, type Folded } from '../w5/fold.js';

const FOLD = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'w5', 'fold.js');

/** W2 (count and sum by key, P = 128) on the workers of `queue`. */
export async function clusterGrouped(n: number, redis: string, queue: string): Promise<Outcome> {
  const t0 = performance.now();
  let scattered = t0;
  let groups = 0;
  let count = 0;
  let sum = 0;
  const rows = iterateGroups(
    {
      input: recordsInput(n, W2_KEYS),
      key: 'key',
      partitions: 128,
      aggregate: { count: { op: 'count' }, sum_amount: { op: 'sum', field: 'amount' } },
      cluster: { redis, queue },
    },
    () => (scattered = performance.now()),
  );
  for await (const [, row] of rows) (groups++, (count += row.count as number), (sum += row.sum_amount as number));
  const end = performance.now();
  return { checksum: { groups, count, sum }, phases: { scatter: (scattered - t0) / 1000, gather: (end - scattered) / 1000 } };
}

/** W5 (every record through Redis, each partition folded on a worker) on the workers of `queue`. */
export async function clusterShuffle(n: number, redis: string, queue: string): Promise<Outcome> {
  const t0 = performance.now();
  const h = await shuffle({ input: recordsInput(n, W2_KEYS), key: 'key', partitions: 128, cluster: { redis, queue } });
  const t1 = performance.now();
  try {
    const parts = await h.gather<Folded>({ module: FOLD, export: 'foldPartition' });
    const t2 = performance.now();
    return { checksum: checksumOf(parts), seconds: (t2 - t0) / 1000, phases: { scatter: (t1 - t0) / 1000, gather: (t2 - t1) / 1000 } };
  } finally {
    await h.close(); // the job's keys removed
  }
}
