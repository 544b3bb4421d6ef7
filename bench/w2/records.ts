/**
 * The records of shared/workloads.md, made from an index range inside each worker: W2's
 * (100,000 keys), W6's (5M keys) and W6-large's (20M keys) differ only in the key count.
 * The same formulas in DuckDB's SQL are here too (`sqlRecords`), so the peer makes the same rows.
 */
const TAGS = ['alpha', 'beta', 'gamma', 'delta', 'eps', 'zeta', 'eta', 'theta'];
/** Knuth's multiplicative hash constant: key number = ((i × M) mod 2^32) mod keys. */
const M = 2654435761;

/** Key counts of the workloads. */
export const W2_KEYS = 100_000;
export const W6_KEYS = 5_000_000;
export const W6_LARGE_KEYS = 20_000_000;

/** One record. */
export interface W2Record {
  id: number;
  key: string;
  amount: number;
  tag: string;
}

/** The key number of record i among `keys` keys (Math.imul is the product mod 2^32). */
export function keyNumber(i: number, keys: number): number {
  return (Math.imul(i, M) >>> 0) % keys;
}

/** The amount of record i. */
export function amountOf(i: number): number {
  return (i % 1000) / 10;
}

/** Record i with `keys` keys. */
export function recordOf(i: number, keys: number): W2Record {
  return { id: i, key: 'user' + keyNumber(i, keys), amount: amountOf(i), tag: TAGS[i % 8]! };
}

/** Record i of W2. */
export function w2Record(i: number): W2Record {
  return recordOf(i, W2_KEYS);
}

/** The generator input of a workload with `keys` keys: records [start, end). */
function rangeOf(keys: number): (start: number, end: number) => Generator<W2Record> {
  return function* (start: number, end: number) {
    for (let i = start; i < end; i++) yield recordOf(i, keys);
  };
}

/** Records [start, end) of W2: the generator input of the W2 shuffle (and W5). */
export const range = rangeOf(W2_KEYS);
/** Records [start, end) of W6. */
export const w6Range = rangeOf(W6_KEYS);
/** Records [start, end) of W6-large. */
export const w6LargeRange = rangeOf(W6_LARGE_KEYS);
/** The generator export of each key count (the engine takes a module's export, so the count is in the name). */
export const RANGE_EXPORT: Record<number, string> = { [W2_KEYS]: 'range', [W6_KEYS]: 'w6Range', [W6_LARGE_KEYS]: 'w6LargeRange' };

/** The same records in DuckDB's SQL: a query over `range(n)` with columns id, key, amount, tag. */
export function sqlRecords(n: number, keys: number): string {
  const tags = `[${TAGS.map((t) => `'${t}'`).join(', ')}]`;
  return (
    `SELECT i AS id, 'user' || ((i * ${M}) % 4294967296 % ${keys}) AS key, (i % 1000) / 10 AS amount, ` +
    `${tags}[i % 8 + 1] AS tag FROM range(${n}) t(i)`
  );
}
