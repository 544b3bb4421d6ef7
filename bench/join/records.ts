/**
 * The join workloads' records (docs/benchmarks.md): J1 joins W2's records with a dimension
 * table of one row per key, `{ key: "user" + k, weight: k mod 7 }` for k < 100,000; J2 joins
 * W2's records with themselves on `id`. The dimension rows in DuckDB's SQL too, and the
 * checksums, from the formulas: every record meets exactly one row, so J1 and J2 make N rows.
 */
import type { Checksum } from '../checksum.js';
import { amountOf, keyNumber, W2_KEYS } from '../w2/records.js';

/** J1's dimension table: as many rows as W2 has keys. */
export const DIM_ROWS = W2_KEYS;

/** One dimension row. */
export interface DimRow {
  key: string;
  weight: number;
}

/** Dimension row k. */
export function dimOf(k: number): DimRow {
  return { key: 'user' + k, weight: k % 7 };
}

/** Dimension rows [start, end): the generator input of J1's right side. */
export function* dimRange(start: number, end: number): Generator<DimRow> {
  for (let k = start; k < end; k++) yield dimOf(k);
}

/** The dimension table in DuckDB's SQL: columns key, weight. */
export const sqlDims = `SELECT 'user' || k AS key, k % 7 AS weight FROM range(${DIM_ROWS}) t(k)`;

/** The join workloads. */
export type JoinWorkload = 'j1' | 'j2';

/**
 * The checksum of a join of records [0, n): N rows; `sum` is Σ left.amount + right.weight
 * (J1) or Σ left.amount + right.amount (J2).
 */
export function expectedJoin(n: number, workload: JoinWorkload): Checksum {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += amountOf(i) + (workload === 'j1' ? keyNumber(i, W2_KEYS) % 7 : amountOf(i));
  return { count: n, sum };
}
