/**
 * The two sides of S1 (the issue's sort benchmark): W2's records sorted by amount then id — by
 * one thread's `Array.prototype.sort` of the records made in that thread (a fresh worker thread,
 * as the engine's workers are), and by `sort` on the engine, the records made in its workers and
 * streamed back in order to this thread. Both check what they got: the count, the sum of
 * amounts, and an order hash of the ids (a wrong order fails the run).
 */
import { sort } from '../../src/index.js';
import { orderStep, type Checksum } from '../checksum.js';
import { recordsInput } from '../engine.js';
import type { Outcome } from '../rounds.js';
import { inFreshThreads } from '../thread.js';
import { W2_KEYS, recordOf, type W2Record } from '../w2/records.js';

/** The key module of the engine's rows: this module, compiled. */
const SELF = new URL(import.meta.url);

/** The sort key, for the workers: the tuple (amount, id). */
export const amountThenId = (r: W2Record): [number, number] => [r.amount, r.id];

/** In a fresh thread: makes records [0, n), sorts them by amount then id with `Array.prototype.sort`, and sums them up in order. */
export function arraySort(n: number): Checksum {
  const records: W2Record[] = new Array(n);
  for (let i = 0; i < n; i++) records[i] = recordOf(i, W2_KEYS);
  records.sort((a, b) => a.amount - b.amount || a.id - b.id);
  let sum = 0;
  let order = 0;
  for (const r of records) ((sum += r.amount), (order = orderStep(order, r.id)));
  return { count: n, sum, order };
}

/** B0-sort: `arraySort` in one fresh worker thread (thread start and module loading included, as in the engine's). */
export async function b0Sort(n: number): Promise<Outcome> {
  const [checksum] = await inFreshThreads<Checksum>([{ module: SELF, export: 'arraySort', args: [n] }]);
  return { checksum: checksum! };
}

/**
 * The engine: `sort` of the generated records by (amount, id), P = 128, the records iterated here
 * in order; scatter and the rest timed apart. `by: 'amount'` sorts by the field alone: as the sort
 * is stable and the ids are in input order, that is the same order, with no key stored per record.
 */
export async function engineSort(n: number, workers: number, by: 'tuple' | 'amount' = 'tuple'): Promise<Outcome> {
  const t0 = performance.now();
  let scattered = t0;
  let count = 0;
  let sum = 0;
  let order = 0;
  const records = sort<W2Record>(
    {
      input: recordsInput(n, W2_KEYS),
      key: by === 'amount' ? 'amount' : { module: SELF.href, export: 'amountThenId' },
      partitions: 128,
      workers,
    },
    () => (scattered = performance.now()),
  );
  for await (const r of records) (count++, (sum += r.amount), (order = orderStep(order, r.id)));
  const end = performance.now();
  return { checksum: { count, sum, order }, phases: { scatter: (scattered - t0) / 1000, gather: (end - scattered) / 1000 } };
}
