/** Seeded random fault points for the fault-injection suites (test/faults.test.ts, test/sort-faults.test.ts, test/join-faults.test.ts). */
import type { Fault } from '../../src/shuffle/runtime/faults.js';

/** mulberry32: a small seeded PRNG, so every fault point can be replayed. */
export function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Where faults may land: the job's split numbers, the records each split holds, the parts each commits at least, its partitions. */
export interface FaultShape {
  splits: number[];
  perSplit: number;
  parts: number;
  partitions: number;
}

/**
 * A random fault point: where (read, commit, gather), which split/partition, at what count; in
 * about 30% of the runs the same split or partition fails its second attempt too. Each fault
 * fires, so the run retries exactly once per fault: a first attempt reaches every record, part
 * and batch; a second one resumes where the split's committed parts end, which is before the
 * first fault's record (so its own, no earlier, is reached) or at the first fault's part (a
 * commit that failed committed nothing, and the retry commits that part again).
 */
export function randomFaults(seed: number, action: Fault['action'], shape: FaultShape): Fault[] {
  const r = prng(seed);
  const pick = (n: number) => Math.floor(r() * n);
  const at = (['read', 'commit', 'gather'] as const)[pick(3)]!;
  const attempts = r() < 0.3 ? [1, 2] : [1];
  if (at === 'gather') {
    const partition = pick(shape.partitions);
    return attempts.map((attempt) => ({ at, partition, attempt, after: pick(2), action }));
  }
  const split = shape.splits[pick(shape.splits.length)]!;
  // commit faults fire inside the coordinator's transaction, where the failure is an exception
  if (at === 'commit') {
    const part = pick(shape.parts);
    return attempts.map((attempt) => ({ at, split, attempt, after: part, action: 'throw' }));
  }
  const n = shape.perSplit;
  let after = 1 + pick(n - 1); // a record of the split: the first at 1, the second at or after the first's
  return attempts.map((attempt) => ({ at, split, attempt, after: attempt === 1 ? after : (after += pick(n - after)), action }));
}

/** The W2-shaped runs' faults (test/faults.test.ts, test/sort-faults.test.ts): `records` in splits 0..3, each committing at least 3 parts. */
export function fourSplits(records: number, partitions: number): FaultShape {
  return { splits: [0, 1, 2, 3], perSplit: records / 4, parts: 3, partitions };
}
