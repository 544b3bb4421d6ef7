/**
 * The gather phase, coordinator side: every partition reduced by gather tasks in the worker
 * threads (gather/task.ts), several partitions a task, retried on failure, results yielded as
 * tasks finish; the retries are counted into the caller's stats.
 */
import type { Plan } from '../options.js';
import type { GatherTask } from '../protocol.js';
import type { WorkerPool } from '../runtime/pool.js';
import { withRetries } from '../runtime/retries.js';

/** Gather tasks per thread: enough to balance the threads, few enough that round trips stay cheap. */
const GATHER_TASKS_PER_THREAD = 4;

/** Partitions 0..P-1 cut into consecutive batches, one gather task each. */
function gatherBatches(partitions: number, threads: number): number[][] {
  const size = Math.max(1, Math.ceil(partitions / (threads * GATHER_TASKS_PER_THREAD)));
  const out: number[][] = [];
  for (let first = 0; first < partitions; first += size)
    out.push(Array.from({ length: Math.min(size, partitions - first) }, (_, i) => first + i));
  return out;
}

/** A gather task's ids (`GatherTask.partitions`) and how errors name them. */
export interface GatherBatch {
  ids: number[];
  what: string;
}

/** What a gather phase counts. */
export interface GatherStats {
  /** Gather attempts that failed and were retried. */
  gatherRetried: number;
}

/**
 * Runs gather tasks over every partition on `pool` (retrying failures), yielding results as
 * batches of partitions finish. Its retries are added to `stats.gatherRetried` once every task
 * has settled: before the generator ends, whether it ran to the end, failed or was stopped early.
 * `batches` replaces the batches of partitions (a join's units, join/units.ts).
 */
export async function* gatherPhase<R>(
  p: Plan,
  pool: WorkerPool,
  reduce: GatherTask['reduce'],
  stats: GatherStats,
  batches?: GatherBatch[],
): AsyncGenerator<[number, R]> {
  const results: [number, R][] = [];
  let wake: (() => void) | undefined;
  let failure: unknown;
  let finished = false;
  let done = 0;
  const retried = { retried: 0 };
  p.signal?.throwIfAborted();
  // Gather tasks read LMDB in native code, where a terminated worker takes the process down
  // ("napi_throw"): an abort lets them finish (runtime/pool.ts), and the phase ends only once every
  // task has settled, so the pool is never closed under a running one.
  const named = (ids: number[]) => ({ ids, what: ids.length === 1 ? `partition ${ids[0]}` : `partitions ${ids[0]}..${ids.at(-1)}` });
  const tasks = (batches ?? gatherBatches(p.partitions, pool.threads).map(named)).map(({ ids: partitions, what }) =>
    withRetries(p, pool, what, retried, (attempt) =>
      pool.run<[number, R][]>('gather', { store: p.store.path, partitions, reduce, attempt, faults: p.faults } satisfies GatherTask, {
        timeoutMs: p.taskTimeout,
        graceful: true,
      }),
    ).then((batch) => {
      for (const r of batch) results.push(r); // one result per partition, whatever the attempts (no spread: a batch may be long)
      done += batch.length;
      p.progress({ phase: 'gather', partitionsDone: done, partitions: p.partitions });
      wake?.();
    }),
  );
  const settled = Promise.allSettled(tasks).then((all) => {
    stats.gatherRetried += retried.retried;
    const rejected = all.find((r) => r.status === 'rejected');
    if (rejected) failure = rejected.reason;
    else if (pool.aborted) failure = p.signal?.aborted ? p.signal.reason : pool.reason; // every task done, yet the job was ended (a thread failed outside any task)
    finished = true;
    wake?.();
  });
  try {
    while (true) {
      while (results.length > 0) yield* results.splice(0); // not shift() per result: O(P²) over many partitions
      if (finished) break;
      await new Promise<void>((r) => (wake = r));
    }
    if (failure !== undefined) throw p.signal?.aborted ? p.signal.reason : failure;
  } finally {
    await settled; // also when the consumer stops early
  }
}
