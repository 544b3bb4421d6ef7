/** W2's records (shared/workloads.md), made from an index range inside each worker. */
const TAGS = ['alpha', 'beta', 'gamma', 'delta', 'eps', 'zeta', 'eta', 'theta'];

/** One W2 record. */
export interface W2Record {
  id: number;
  key: string;
  amount: number;
  tag: string;
}

/** Record i. */
export function w2Record(i: number): W2Record {
  return { id: i, key: 'user' + ((Math.imul(i, 2654435761) >>> 0) % 100000), amount: (i % 1000) / 10, tag: TAGS[i % 8]! };
}

/** Records [start, end): the generator input of the W2 shuffle. */
export function* range(start: number, end: number): Generator<W2Record> {
  for (let i = start; i < end; i++) yield w2Record(i);
}
