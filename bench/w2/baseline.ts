/**
 * B0 of shared/workloads.md — one thread folds the records into one Map, no shuffle, no store —
 * in a fresh worker thread, as the engine's workers run; and the same fold split over threads
 * at once, which measures how much two busy cores of this machine slow each other down (the
 * ceiling of any 2-worker speedup here).
 */
import type { Checksum } from '../checksum.js';
import type { Outcome } from '../rounds.js';
import { inFreshThreads } from '../thread.js';
import { recordOf } from './records.js';

/** B0 over records [start, end) with `keys` keys (run in a fresh thread by `b0`). */
export function fold(start: number, end: number, keys: number): Checksum {
  const groups = new Map<string, { count: number; sum: number }>();
  for (let i = start; i < end; i++) {
    const r = recordOf(i, keys);
    const g = groups.get(r.key);
    if (g) {
      g.count++;
      g.sum += r.amount;
    } else groups.set(r.key, { count: 1, sum: r.amount });
  }
  let count = 0;
  let sum = 0;
  for (const g of groups.values()) ((count += g.count), (sum += g.sum));
  return { groups: groups.size, count, sum };
}

/**
 * B0 over [0, n) cut into `threads` equal ranges, each folded in a fresh thread of its own, all
 * at the same time. One thread: the groups; more: counts and sums only (their groups overlap).
 */
export async function b0(n: number, keys: number, threads = 1): Promise<Outcome> {
  const per = Math.ceil(n / threads);
  const parts = await inFreshThreads<Checksum>(
    Array.from({ length: threads }, (_, t) => ({
      module: new URL(import.meta.url),
      export: 'fold',
      args: [t * per, Math.min(n, (t + 1) * per), keys],
    })),
  );
  const checksum = {
    groups: threads === 1 ? parts[0]!.groups : undefined,
    count: parts.reduce((s, p) => s + p.count, 0),
    sum: parts.reduce((s, p) => s + p.sum, 0),
  };
  return { checksum };
}
