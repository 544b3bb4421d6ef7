/** The engine's side of the record workloads: `iterateGroups` over records made in the workers (W2, W3, W6). */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { iterateGroups, type ClusterOptions } from '../src/index.js';
import type { Outcome } from './rounds.js';
import { RANGE_EXPORT } from './w2/records.js';

/** The module of the record generators (compiled), as the workers load it. */
export const RECORDS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'w2', 'records.js');

/** How the workers make the records: a generator over their index range, or one call per index (W2's keys only: `w2Record`). */
export type Form = 'generate' | 'make';

/** The generator input of `n` records with `keys` keys. */
export function recordsInput(n: number, keys: number, form: Form = 'generate') {
  if (form === 'make') return { make: { module: RECORDS, export: 'w2Record' }, count: n };
  const name = RANGE_EXPORT[keys];
  if (name === undefined) throw new RangeError(`no generator export for ${keys} keys in bench/w2/records.ts`);
  return { generate: { module: RECORDS, export: name }, count: n };
}

/**
 * groupBy key with count and sum(amount), P = 128, the groups streamed with `iterateGroups` and
 * summed here; scatter and gather timed apart. With `cluster`, on `partd worker` processes.
 */
export async function grouped(
  n: number,
  keys: number,
  workers: number,
  form: Form = 'generate',
  cluster?: ClusterOptions,
): Promise<Outcome> {
  const t0 = performance.now();
  let scattered = t0;
  let groups = 0;
  let count = 0;
  let sum = 0;
  const rows = iterateGroups(
    {
      input: recordsInput(n, keys, form),
      key: 'key',
      partitions: 128,
      workers,
      aggregate: { count: { op: 'count' }, sum_amount: { op: 'sum', field: 'amount' } },
      ...(cluster && { cluster }),
    },
    () => (scattered = performance.now()),
  );
  for await (const [, row] of rows) (groups++, (count += row.count as number), (sum += row.sum_amount as number));
  const end = performance.now();
  return { checksum: { groups, count, sum }, phases: { scatter: (scattered - t0) / 1000, gather: (end - scattered) / 1000 } };
}
