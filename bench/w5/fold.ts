/**
 * What W5 runs in threads: the gather reducer of the engine (a partition's records in, its
 * count and sum out), and B0-partition — one thread makes the records, pushes each into an
 * in-memory array per partition by the engine's hash, then folds every partition.
 */
import { hashKey } from '../../src/extend.js';
import type { Checksum } from '../checksum.js';
import { recordOf, type W2Record } from '../w2/records.js';

/** A partition's fold. */
export interface Folded {
  count: number;
  sum: number;
}

/** The engine's gather reducer (`ShuffleHandle.gather`): one partition's batches of records. */
export async function foldPartition(batches: AsyncIterable<W2Record[]>): Promise<Folded> {
  let count = 0;
  let sum = 0;
  for await (const batch of batches) for (const r of batch) (count++, (sum += r.amount));
  return { count, sum };
}

/** The checksum of folded partitions (in partition order). */
export function checksumOf(parts: Folded[]): Checksum {
  return {
    groups: parts.filter((p) => p.count > 0).length,
    count: parts.reduce((s, p) => s + p.count, 0),
    sum: parts.reduce((s, p) => s + p.sum, 0),
    parts: parts.map((p) => p.count),
  };
}

/** B0-partition over records [start, end) (run in a fresh thread): every record kept in its partition's array, then each array folded. */
export function partitionFold(start: number, end: number, keys: number, partitions: number): Folded[] {
  const arrays: W2Record[][] = Array.from({ length: partitions }, () => []);
  for (let i = start; i < end; i++) {
    const r = recordOf(i, keys);
    arrays[hashKey(r.key) % partitions]!.push(r);
  }
  return arrays.map((records) => {
    let sum = 0;
    for (const r of records) sum += r.amount;
    return { count: records.length, sum };
  });
}
