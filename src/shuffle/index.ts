/**
 * `shuffle` and its handle, in the calling thread: the job opened where it runs (engine.ts), its
 * scatter phase run, and the shuffled partitions handed back, which the gather phase reduces
 * partition by partition.
 */
import { ClosedError, describe } from '../errors.js';
import type { Lmdb } from '../stores/lmdb/lmdb.js';
import type { GatherStats } from './gather/phase.js';
import { resolveRef, type ModuleRef } from './runtime/modules.js';
import type { ShuffleOptions } from './options.js';
import { openEngine, type Engine } from './engine.js';
import type { ShuffleStats } from './scatter/phase.js';

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
  readonly #engine: Engine;
  readonly #partitions: number;
  #closed = false;
  /** Counts of the scatter phase, and `gatherRetried` summed over the `gather()` calls so far. */
  readonly stats: ShuffleStats;

  /** @internal made by `shuffle`: over a local store, or a distributed job's blocks in Redis */
  constructor(engine: Engine, stats: ShuffleStats) {
    this.#engine = engine;
    this.#partitions = stats.partitions;
    this.stats = stats;
  }

  /** P, the number of partitions. */
  get partitions(): number {
    return this.#partitions;
  }

  /** The store holding partition `p` under key `p` (read it through `Msgpack`); a distributed shuffle has none (its partitions are in Redis). */
  get store(): Lmdb {
    const store = this.#engine.store;
    if (!store) throw new Error("store: a distributed shuffle's partitions are blocks in Redis: read them with get() or iterate()");
    return store;
  }

  /** All records of partition `p`. */
  async get(p: number): Promise<T[]> {
    this.#open('get');
    return (await this.#engine.get(this.#check(p))) as T[];
  }

  /**
   * The records of partition `p` in batches: a partition larger than memory works (on a cluster
   * too, read split by split, each split's blocks checked before its records come).
   */
  iterate(p: number): AsyncIterable<T[]> {
    if (this.#closed) return failing(new ClosedError('iterate'));
    return this.#engine.iterate(this.#check(p)) as AsyncIterable<T[]>;
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
    try {
      for await (const [i, r] of this.#engine.gather<R>({ kind: 'module', ref }, stats)) out[i] = r;
    } finally {
      this.stats.gatherRetried += stats.gatherRetried;
      await this.#engine.idle();
    }
    return Object.defineProperty(out, 'stats', { value: stats, enumerable: false }) as GatherResults<R>;
  }

  /** Closes the store, keeping a store the caller named (a temporary one is removed); later calls reject with ClosedError. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#engine.end(false); // a distributed job's keys go at its end
  }

  /** Deletes the shuffled data and closes the handle; a temporary store is removed. */
  async drop(): Promise<void> {
    const store = this.#engine.store;
    if (store && !this.#closed && !store.closed) await store.drop();
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
  const engine = await openEngine(options as ShuffleOptions); // here or on a cluster
  try {
    return new ShuffleHandle<T>(engine, await engine.scatter({}));
  } catch (e) {
    await engine.end();
    throw e;
  } finally {
    await engine.idle(); // the handle starts threads again for each gather
  }
}
