/**
 * The coordinator: runs the scatter phase (scatter-phase.ts) on a pool of worker threads and
 * hands back the shuffled store (`shuffle`) — or runs the gather phase on it
 * (`ShuffleHandle.gather`, `groupBy`).
 */
import { ClosedError, describe } from '../errors.js';
import { Msgpack } from '../layers/values.js';
import type { Lmdb } from '../stores/lmdb.js';
import type { GatherTask } from './gather.js';
import { resolveRef, type ModuleRef } from './modules.js';
import { plan, type Plan, type ShuffleOptions } from './options.js';
import { WorkerPool } from './pool.js';
import { withRetries } from './retries.js';
import { scatterPhase, type ShuffleStats } from './scatter-phase.js';

export type { GroupByOptions, Progress, ShuffleInput, ShuffleOptions } from './options.js';
export { scatterPhase, type ShuffleStats } from './scatter-phase.js';

/** The pool a plan runs on. */
export function poolFor(p: Plan, threads = p.workers): WorkerPool {
  return new WorkerPool(threads, { heapMB: p.workerHeapMB, signal: p.signal });
}

/** Gather tasks per thread: enough to balance the threads, few enough that round trips stay cheap. */
const GATHER_TASKS_PER_THREAD = 4;

/** Partitions 0..P-1 cut into consecutive batches, one gather task each. */
function gatherBatches(partitions: number, threads: number): number[][] {
  const size = Math.max(1, Math.ceil(partitions / (threads * GATHER_TASKS_PER_THREAD)));
  const out: number[][] = [];
  for (let first = 0; first < partitions; first += size) out.push(Array.from({ length: Math.min(size, partitions - first) }, (_, i) => first + i));
  return out;
}

/** Runs gather tasks over every partition on `pool` (retrying failures), yielding results as batches of partitions finish. */
export async function* gatherPhase<R>(p: Plan, pool: WorkerPool, reduce: GatherTask['reduce']): AsyncGenerator<[number, R]> {
  const results: [number, R][] = [];
  let wake: (() => void) | undefined;
  let failure: unknown;
  let finished = false;
  let done = 0;
  const retried = { retried: 0 };
  p.signal?.throwIfAborted();
  // Gather tasks read LMDB in native code, where a terminated worker takes the process down
  // ("napi_throw"): an abort lets them finish (pool.ts), and the phase ends only once every
  // task has settled, so the pool is never closed under a running one.
  const tasks = gatherBatches(p.partitions, pool.threads).map((partitions) =>
    withRetries(p, pool, partitions.length === 1 ? `partition ${partitions[0]}` : `partitions ${partitions[0]}..${partitions.at(-1)}`, retried, (attempt) =>
      pool.run<[number, R][]>('gather', { store: p.store.path, partitions, reduce, attempt, faults: p.faults } satisfies GatherTask, { timeoutMs: p.taskTimeout, graceful: true }),
    ).then((batch) => {
      for (const r of batch) results.push(r); // one result per partition, whatever the attempts (no spread: a batch may be long)
      done += batch.length;
      p.progress({ phase: 'gather', partitionsDone: done, partitions: p.partitions });
      wake?.();
    }),
  );
  const settled = Promise.allSettled(tasks).then((all) => {
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

/** An iterable whose first step rejects with `error`. */
function failing<T>(error: Error): AsyncIterable<T> {
  return { [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(error) }) };
}

/** The handle `shuffle` returns: the shuffled store, partition by partition. */
export class ShuffleHandle<T = unknown> implements AsyncDisposable {
  readonly #plan: Plan;
  readonly #codec: Msgpack<T>;
  #closed = false;
  /** Counts of the scatter phase. */
  readonly stats: ShuffleStats;

  /** @internal made by `shuffle` */
  constructor(plan: Plan, stats: ShuffleStats) {
    this.#plan = plan;
    this.stats = stats;
    this.#codec = new Msgpack<T>(plan.store);
  }

  /** P, the number of partitions. */
  get partitions(): number {
    return this.#plan.partitions;
  }

  /** The store holding partition `p` under key `p` (read it through `Msgpack`). */
  get store(): Lmdb {
    return this.#plan.store;
  }

  /** All records of partition `p`. */
  async get(p: number): Promise<T[]> {
    this.#open('get');
    return this.#codec.get(this.#check(p));
  }

  /** The records of partition `p` in batches (a partition larger than memory works). */
  iterate(p: number): AsyncIterable<T[]> {
    if (this.#closed) return failing(new ClosedError('iterate'));
    return this.#codec.iterate(this.#check(p));
  }

  /** Runs `reducer` (a module exporting `(batches, partition) => result`) on every partition in the workers; results by partition. */
  async gather<R>(reducer: ModuleRef): Promise<R[]> {
    this.#open('gather'); // before any thread starts: the workers would find no store (a temporary one is gone)
    const ref = await resolveRef(reducer, 'reducer');
    const out: R[] = new Array(this.partitions);
    const p = this.#plan;
    const pool = poolFor(p, Math.min(p.workers, this.partitions));
    try {
      for await (const [i, r] of gatherPhase<R>(p, pool, { kind: 'module', ref })) out[i] = r;
    } finally {
      await pool.close();
    }
    return out;
  }

  /** Closes the store, keeping a store the caller named (a temporary one is removed); later calls reject with ClosedError. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#plan.release();
    if (this.#plan.ownsStore) await this.#plan.store.close();
  }

  /** Deletes the shuffled data and closes the handle; a temporary store is removed. */
  async drop(): Promise<void> {
    if (!this.#closed && !this.#plan.store.closed) await this.#plan.store.drop();
    await this.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.drop();
  }

  #open(method: string): void {
    if (this.#closed) throw new ClosedError(method);
  }

  #check(p: number): number {
    if (!Number.isSafeInteger(p) || p < 0 || p >= this.partitions) throw new RangeError(`partition: expected an integer in [0, ${this.partitions}), got ${describe(p)}`);
    return p;
  }
}

/** Shuffles the input into P partitions by a hash of each record's key (see partitioner.ts). */
export async function shuffle<T = unknown>(options: ShuffleOptions<T>): Promise<ShuffleHandle<T>> {
  const p = await plan(options as ShuffleOptions);
  const pool = poolFor(p);
  try {
    return new ShuffleHandle<T>(p, await scatterPhase(p, pool));
  } finally {
    await pool.close();
  }
}
