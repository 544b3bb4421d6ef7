/**
 * The checksums of shared/workloads.md, for any record count: computed from the record formula
 * (not from a baseline run), so every row — baseline, engine or peer — is checked against the
 * same figures, and a wrong one fails the run.
 */
import { hashKey } from '../src/extend.js';
import { amountOf, keyNumber } from './w2/records.js';

/** Totals that identify a grouping (or, with `parts`, a partitioning: records per partition). */
export interface Checksum {
  /** Groups (or non-empty partitions); left out where it is not defined (two halves of a fold overlap). */
  groups?: number;
  count: number;
  sum: number;
  /** Records in each partition, in order. */
  parts?: number[];
  /** A sort's order: the ids folded in output order (`orderStep`). */
  order?: number;
}

/** The figures shared/workloads.md publishes [records, keys, groups, sum]: `expected` must give them (a check of the formulas). */
const PUBLISHED: [n: number, keys: number, groups: number, sum: number][] = [
  [10_000_000, 100_000, 100_000, 499_500_000],
  [10_000_000, 5_000_000, 5_000_000, 499_500_000],
  [100_000_000, 20_000_000, 20_000_000, 4_995_000_000],
];

const cache = new Map<string, Checksum>();

/** The checksum of records [0, n) with `keys` keys; with `partitions`, also the records per partition (by the engine's hash). */
export function expected(n: number, keys: number, partitions?: number): Checksum {
  const id = `${n}/${keys}/${partitions}`;
  const hit = cache.get(id);
  if (hit) return hit;
  const perKey = new Uint32Array(keys);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    perKey[keyNumber(i, keys)]!++;
    sum += amountOf(i);
  }
  let groups = 0;
  const parts = partitions === undefined ? undefined : new Array<number>(partitions).fill(0);
  for (let k = 0; k < keys; k++) {
    if (perKey[k] === 0) continue;
    groups++;
    if (parts) parts[hashKey('user' + k) % partitions!]! += perKey[k]!;
  }
  const published = PUBLISHED.find(([pn, pk]) => pn === n && pk === keys);
  if (published && (published[2] !== groups || Math.abs(published[3] - sum) > 1e-6 * published[3]))
    throw new Error(
      `bench/checksum.ts: ${n} records with ${keys} keys gave ${groups} groups, sum ${sum}; shared/workloads.md says ${published[2]}, ${published[3]}`,
    );
  const sums = parts ? { groups: parts.filter((c) => c > 0).length, count: n, sum, parts } : { groups, count: n, sum };
  cache.set(id, sums);
  return sums;
}

/** Folds ids in output order into a hash: another order gives another hash. */
export const orderStep = (h: number, id: number) => (Math.imul(h, 31) + id) >>> 0;

/** The checksum of records [0, n) sorted by amount then id: amount is (i mod 1000) / 10, so by i mod 1000, then i. */
export function expectedSorted(n: number): Checksum {
  let sum = 0;
  let order = 0;
  for (let r = 0; r < 1000; r++) for (let i = r; i < n; i += 1000) ((sum += amountOf(i)), (order = orderStep(order, i)));
  return { count: n, sum, order };
}

/** Throws unless `got` matches `want`: groups, count and parts exactly (where both have them), sums within 1e-6 relative. */
export function verify(name: string, got: Checksum, want: Checksum): void {
  const bad: string[] = [];
  if (got.groups !== undefined && want.groups !== undefined && got.groups !== want.groups)
    bad.push(`groups ${got.groups} ≠ ${want.groups}`);
  if (got.count !== want.count) bad.push(`count ${got.count} ≠ ${want.count}`);
  if (!(Math.abs(got.sum - want.sum) <= 1e-6 * Math.abs(want.sum))) bad.push(`sum ${got.sum} ≠ ${want.sum}`);
  if (got.order !== undefined && want.order !== undefined && got.order !== want.order)
    bad.push(`order hash ${got.order} ≠ ${want.order} (the records came in another order)`);
  if (got.parts && want.parts) {
    const p = got.parts.findIndex((c, i) => c !== want.parts![i]);
    if (p >= 0 || got.parts.length !== want.parts.length)
      bad.push(`partition ${p} holds ${got.parts[p]} records, expected ${want.parts[p]}`);
  }
  if (bad.length > 0) throw new Error(`checksum of "${name}" is wrong: ${bad.join(', ')}`);
}
