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
export const GATHER_TASKS_PER_THREAD = 4;

/** Partitions 0..P-1 cut into consecutive batches of `size`, one gather task each. */
export function gatherBatches(partitions: number, size: number): GatherBatch[] {
  const out: GatherBatch[] = [];
  for (let first = 0; first < partitions; first += size) {
    const ids = Array.from({ length: Math.min(size, partitions - first) }, (_, i) => first + i);
    out.push({ ids, what: ids.length === 1 ? `partition ${first}` : `partitions ${first}..${ids.at(-1)}` });
  }
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
 * What a gather phase runs, and how it hands the results out. `batches`: the tasks (a join's
 * units, join/units.ts); by default, batches of consecutive partitions, about
 * GATHER_TASKS_PER_THREAD a thread. Results are yielded as tasks finish; with `inOrder` (a
 * sort's), one partition a task by default, yielded in task order, and at most `ahead` tasks
 * started beyond the last one yielded, so the results waiting for a slow consumer (or for an
 * earlier partition) stay few whatever the partition count.
 */
export interface GatherOptions {
  batches?: GatherBatch[];
  inOrder?: { ahead: number };
}

/**
 * Runs gather tasks over every partition on `pool` (retrying failures), yielding results as
 * tasks finish (see GatherOptions). Its retries are added to `stats.gatherRetried` once every
 * task has settled: before the generator ends, whether it ran to the end, failed or was
 * stopped early.
 */
export async function* gatherPhase<R>(
  p: Plan,
  pool: WorkerPool,
  reduce: GatherTask['reduce'],
  stats: GatherStats,
  options: GatherOptions = {},
): AsyncGenerator<[number, R]> {
  const ahead = options.inOrder?.ahead;
  const size = ahead === undefined ? Math.max(1, Math.ceil(p.partitions / (pool.threads * GATHER_TASKS_PER_THREAD))) : 1;
  const batches = options.batches ?? gatherBatches(p.partitions, size);
  const results: [number, R][] = []; // finished, in any order (by default)
  const inOrder = new Map<number, [number, R][]>(); // finished, by batch (inOrder)
  let wake: (() => void) | undefined;
  let failure: unknown;
  let started = 0;
  let settledTasks = 0;
  let yielded = 0; // batches yielded (inOrder)
  let stopped = false;
  let done = 0;
  const retried = { retried: 0 };
  const tasks: Promise<void>[] = [];
  p.signal?.throwIfAborted();
  // Gather tasks read LMDB in native code, where a terminated worker takes the process down
  // ("napi_throw"): an abort lets them finish (runtime/pool.ts), and the phase ends only once every
  // task has settled, so the pool is never closed under a running one.
  const run = (i: number) => {
    const { ids: partitions, what } = batches[i]!;
    return withRetries(p, pool, what, retried, (attempt) =>
      pool.run<[number, R][]>('gather', { store: p.store.path, partitions, reduce, attempt, faults: p.faults } satisfies GatherTask, {
        timeoutMs: p.taskTimeout,
        graceful: true,
      }),
    ).then(
      (batch) => {
        if (ahead === undefined)
          for (const r of batch) results.push(r); // one result per partition, whatever the attempts (no spread: a batch may be long)
        else inOrder.set(i, batch);
        done += batch.length;
        p.progress({ phase: 'gather', partitionsDone: done, partitions: p.partitions });
      },
      (e: unknown) => void (failure ??= e),
    );
  };
  /** Starts the tasks that may run now: all of them by default, up to `ahead` beyond the last yielded in order. */
  const launch = () => {
    while (!stopped && failure === undefined && started < batches.length && (ahead === undefined || started < yielded + ahead)) {
      tasks.push(
        run(started++).finally(() => {
          settledTasks++;
          wake?.();
        }),
      );
    }
  };
  try {
    launch();
    while (true) {
      if (ahead === undefined)
        while (results.length > 0) yield* results.splice(0); // not shift() per result: O(P²) over many partitions
      else
        for (let b = inOrder.get(yielded); b !== undefined; b = inOrder.get(yielded)) {
          inOrder.delete(yielded++);
          launch();
          yield* b;
        }
      if (failure !== undefined || (started === batches.length && settledTasks === started && results.length === 0 && inOrder.size === 0))
        break;
      await new Promise<void>((r) => (wake = r));
    }
    // every task done, yet the job was ended (a thread failed outside any task)
    if (failure === undefined && pool.aborted) failure = p.signal?.aborted ? p.signal.reason : pool.reason;
    if (failure !== undefined) throw p.signal?.aborted ? p.signal.reason : failure;
  } finally {
    stopped = true;
    await Promise.allSettled(tasks); // also when the consumer stops early
    stats.gatherRetried += retried.retried;
  }
}
