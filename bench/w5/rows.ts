/** W5's rows, each run in a process of its own (isolated.ts): the engine's full shuffle, and B0-partition in fresh threads. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { shuffle, type ClusterOptions } from '../../src/index.js';
import { recordsInput } from '../engine.js';
import type { Outcome } from '../rounds.js';
import { inFreshThreads } from '../thread.js';
import { W2_KEYS } from '../w2/records.js';
import { checksumOf, type Folded } from './fold.js';

/** P, the partitions of W5. */
export const P = 128;
const FOLD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fold.js');

/** The shuffle and the gather, timed apart (with `cluster`, on `partd worker` processes); the store is removed after the clock stops. */
export async function fullShuffle(n: number, workers: number, cluster?: ClusterOptions): Promise<Outcome> {
  const t0 = performance.now();
  const h = await shuffle({ input: recordsInput(n, W2_KEYS), key: 'key', partitions: P, workers, ...(cluster && { cluster }) });
  const t1 = performance.now();
  try {
    const parts = await h.gather<Folded>({ module: FOLD, export: 'foldPartition' });
    const t2 = performance.now();
    return { checksum: checksumOf(parts), seconds: (t2 - t0) / 1000, phases: { scatter: (t1 - t0) / 1000, gather: (t2 - t1) / 1000 } };
  } finally {
    await h.close(); // a temporary store: removed
  }
}

/** B0-partition over [0, n) in `threads` fresh threads at once (halves), the partitions' folds added up. */
export async function b0Partition(n: number, threads: number): Promise<Outcome> {
  const per = Math.ceil(n / threads);
  const halves = await inFreshThreads<Folded[]>(
    Array.from({ length: threads }, (_, t) => ({
      module: new URL('./fold.js', import.meta.url),
      export: 'partitionFold',
      args: [t * per, Math.min(n, (t + 1) * per), W2_KEYS, P],
    })),
  );
  return {
    checksum: checksumOf(
      halves[0]!.map((_, p) => ({ count: halves.reduce((s, h) => s + h[p]!.count, 0), sum: halves.reduce((s, h) => s + h[p]!.sum, 0) })),
    ),
  };
}
