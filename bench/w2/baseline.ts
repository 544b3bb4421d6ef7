/**
 * B0 of shared/workloads.md — one thread folds W2's records into a Map, no shuffle, no store —
 * and the same fold split over threads at once, which measures how much two busy cores of
 * this machine slow each other down (the ceiling of any 2-worker speedup here).
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { w2Record } from './records.js';

/** Totals that identify a grouping. */
export interface Checksum {
  groups: number;
  count: number;
  sum: number;
}

/** B0 over records [start, end). */
export function baseline(start: number, end: number): Checksum {
  const groups = new Map<string, { count: number; sum: number }>();
  for (let i = start; i < end; i++) {
    const r = w2Record(i);
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

/** B0 over [0, n) cut into `threads` equal ranges, each folded in its own thread at the same time (counts only: groups overlap). */
export async function baselineThreads(n: number, threads: number): Promise<Checksum> {
  const per = Math.ceil(n / threads);
  const parts = await Promise.all(
    Array.from(
      { length: threads },
      (_, t) =>
        new Promise<Checksum>((resolve, reject) => {
          const w = new Worker(new URL(import.meta.url), { workerData: [t * per, Math.min(n, (t + 1) * per)] });
          w.once('message', resolve).once('error', reject);
        }),
    ),
  );
  return {
    groups: Math.max(...parts.map((p) => p.groups)),
    count: parts.reduce((s, p) => s + p.count, 0),
    sum: parts.reduce((s, p) => s + p.sum, 0),
  };
}

if (!isMainThread && Array.isArray(workerData)) {
  const [start, end] = workerData as [number, number];
  parentPort!.postMessage(baseline(start, end));
}
