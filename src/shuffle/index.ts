/**
 * `shuffle` and its handle, in the calling thread: the job planned (options.ts), the scatter
 * phase run on a pool of worker threads (scatter/phase.ts), and the shuffled store handed back,
 * which the gather phase (gather/phase.ts) reduces partition by partition.
 */
import { ClosedError, describe } from '../errors.js';
import { Msgpack } from '../layers/values.js';
import type { Lmdb } from '../stores/lmdb/lmdb.js';
import { gatherPhase, type GatherStats } from './gather/phase.js';
import { resolveRef, type ModuleRef } from './runtime/modules.js';
import { checkJob, plan, type Plan, type ShuffleOptions } from './options.js';
import { Dict } from '../stores/dict.js';
import { ClusterJob } from './cluster/job.js';
import { poolFor } from './runtime/pool.js';
import { scatterPhase, type ShuffleStats } from './scatter/phase.js';

export type { GroupByOptions, Progress, ShuffleInput, ShuffleOptions } from './options.js';
export { scatterPhase, type ShuffleStats } from './scatter/phase.js';
export type { GatherStats } from './gather/phase.js';

/** What `ShuffleHandle.gather` resolves to: the results by partition, with the call's `stats` (a non-enumerable property). */
export type GatherResults<R> = R[] & { readonly stats: GatherStats };

/** An iterable whose first step rejects with `error`. */
function failing<T>(error: Error): AsyncIterable<T> {
  return { [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(error) }) };
}

/** The handle `shuffle` returns: the shuffled store, partition by partition. */
export class ShuffleHandle<T = unknown> implements AsyncDisposable {
  readonly #plan: Plan | undefined;
  readonly #cluster: ClusterJob | undefined;
  readonly #codec: Msgpack<T> | undefined;
  readonly #partitions: number;
  #closed = false;
  /** Counts of the scatter phase, and `gatherRetried` summed over the `gather()` calls so far. */
  readonly stats: ShuffleStats;

  /** @internal made by `shuffle`: over a local plan's store, or a distributed job's blocks in Redis */
  constructor(job: Plan | ClusterJob, stats: ShuffleStats) {
    if (job instanceof ClusterJob) this.#cluster = job;
    else {
      this.#plan = job;
      this.#codec = new Msgpack<T>(job.store);
    }
    this.#partitions = stats.partitions;
    this.stats = stats;
  }

  /** P, the number of partitions. */
  get partitions(): number {
    return this.#partitions;
  }

  /** The store holding partition `p` under key `p` (read it through `Msgpack`); a distributed shuffle has none (its partitions are in Redis). */
  get store(): Lmdb {
    if (!this.#plan) throw new Error("store: a distributed shuffle's partitions are blocks in Redis: read them with get() or iterate()");
    return this.#plan.store;
  }

  /** All records of partition `p`. */
  async get(p: number): Promise<T[]> {
    this.#open('get');
    if (this.#cluster) return (await this.#clusterPartition(this.#check(p))).get(p);
    return this.#codec!.get(this.#check(p));
  }

  /** The records of partition `p` in batches (a partition larger than memory works, but on a cluster, where it is read whole). */
  iterate(p: number): AsyncIterable<T[]> {
    if (this.#closed) return failing(new ClosedError('iterate'));
    if (!this.#cluster) return this.#codec!.iterate(this.#check(p));
    const partition = this.#check(p);
    const read = () => this.#clusterPartition(partition);
    return (async function* () {
      yield* (await read()).iterate(partition);
    })();
  }

  /** A distributed shuffle's partition read from Redis (checked, lost blocks recomputed) into memory. */
  async #clusterPartition(p: number): Promise<Msgpack<T>> {
    const dict = new Dict();
    await dict.append(new Map([[p, Buffer.concat(await this.#cluster!.partition(p))]]));
    return new Msgpack<T>(dict);
  }

  /**
   * Runs `reducer` (a module exporting `(batches, partition) => result`) on every partition in
   * the workers; results by partition. The array also has a `stats` property (not enumerable, so
   * it compares, spreads and prints as the results alone): `gatherRetried`, the gather attempts
   * of this call that failed and were retried, also added to `this.stats.gatherRetried`.
   */
  async gather<R>(reducer: ModuleRef): Promise<GatherResults<R>> {
    this.#open('gather'); // before any thread starts: the workers would find no store (a temporary one is gone)
    const ref = await resolveRef(reducer, 'reducer');
    const out: R[] = new Array(this.partitions);
    const stats: GatherStats = { gatherRetried: 0 };
    if (this.#cluster) {
      try {
        for await (const [i, r] of this.#cluster.gather<R>({ kind: 'module', ref }, stats)) out[i] = r;
      } finally {
        this.stats.gatherRetried += stats.gatherRetried;
      }
      return Object.defineProperty(out, 'stats', { value: stats, enumerable: false }) as GatherResults<R>;
    }
    const p = this.#plan!;
    const pool = poolFor(p, Math.min(p.workers, this.partitions));
    try {
      for await (const [i, r] of gatherPhase<R>(p, pool, { kind: 'module', ref }, stats)) out[i] = r;
    } finally {
      this.stats.gatherRetried += stats.gatherRetried;
      await pool.close();
    }
    return Object.defineProperty(out, 'stats', { value: stats, enumerable: false }) as GatherResults<R>;
  }

  /** Closes the store, keeping a store the caller named (a temporary one is removed); later calls reject with ClosedError. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#cluster) return this.#cluster.end(); // a distributed job's keys go at its end
    await this.#plan!.release();
    if (this.#plan!.ownsStore) await this.#plan!.store.close();
  }

  /** Deletes the shuffled data and closes the handle; a temporary store is removed. */
  async drop(): Promise<void> {
    if (this.#plan && !this.#closed && !this.#plan.store.closed) await this.#plan.store.drop();
    await this.close();
  }

  /** `await using`: closes, as `close()` does (a named store keeps its data; a temporary one is removed). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #open(method: string): void {
    if (this.#closed) throw new ClosedError(method);
  }

  #check(p: number): number {
    if (!Number.isSafeInteger(p) || p < 0 || p >= this.partitions)
      throw new RangeError(`partition: expected an integer in [0, ${this.partitions}), got ${describe(p)}`);
    return p;
  }
}

/** Shuffles the input into P partitions by a hash of each record's key (see partitioner.ts). */
export async function shuffle<T = unknown>(options: ShuffleOptions<T>): Promise<ShuffleHandle<T>> {
  if (options !== null && typeof options === 'object' && options.cluster !== undefined) {
    const job = await ClusterJob.start(await checkJob(options as ShuffleOptions));
    try {
      return new ShuffleHandle<T>(job, await job.scatter({}));
    } catch (e) {
      await job.end();
      throw e;
    }
  }
  const p = await plan(options as ShuffleOptions);
  const pool = poolFor(p);
  try {
    return new ShuffleHandle<T>(p, await scatterPhase(p, pool));
  } finally {
    await pool.close();
  }
}
