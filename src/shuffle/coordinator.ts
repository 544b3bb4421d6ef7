/**
 * The coordinator: runs scatter tasks over the planned splits on a pool of worker threads,
 * retrying failed attempts, and hands back the shuffled store (`shuffle`) — or runs the
 * gather phase on it (`ShuffleHandle.gather`, `groupBy`).
 */
import { BadRecordError, ShuffleError, describe } from '../errors.js';
import { Msgpack } from '../layers/values.js';
import type { Lmdb } from '../stores/lmdb.js';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { keyId } from '../keys.js';
import type { Entry } from '../partd.js';
import { commitGuard, grantLease, markerKey } from './commits.js';
import { trigger } from './faults.js';
import type { GatherTask } from './gather.js';
import { resolveRef, type ModuleRef } from './modules.js';
import { plan, type Plan, type ShuffleOptions } from './options.js';
import { WorkerPool } from './pool.js';
import type { PartMessage, ScatterResult, ScatterTask } from './scatter.js';
import { describeSplit, type SplitSpec } from './splits.js';

export type { GroupByOptions, Progress, ShuffleInput, ShuffleOptions } from './options.js';

/** Counts of one shuffle. */
export interface ShuffleStats {
  records: number;
  badRecords: number;
  bytesRead: number;
  bytesAppended: number;
  splits: number;
  partitions: number;
  workers: number;
  /** Attempts that failed and were retried. */
  retried: number;
  scatterSeconds: number;
}

const MiB = 1 << 20;
const BATCH_RECORDS = 10_000;

/** The pool a plan runs on. */
export function poolFor(p: Plan, threads = p.workers): WorkerPool {
  return new WorkerPool(threads, { heapMB: p.workerHeapMB, signal: p.signal });
}

/**
 * Runs `attempt(n)` for n = 1, 2, … until it succeeds or `p.retries` retries are used. Bad
 * records and aborts are not retried. When the last attempt fails, the pool is aborted (the
 * job is over) and the error names `what`, the attempts and each one's cause.
 */
async function withRetries<R>(p: Plan, pool: WorkerPool, what: string, stats: { retried: number }, attempt: (n: number) => Promise<R>): Promise<R> {
  const causes: Error[] = [];
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (e) {
      if (pool.aborted) throw p.signal?.aborted ? p.signal.reason : e;
      const err = e instanceof Error ? e : new Error(String(e));
      if (err instanceof BadRecordError || (err as NodeJS.ErrnoException).code === 'ENOSPC') {
        pool.abort(err);
        throw err;
      }
      causes.push(err);
      if (n > p.retries) {
        const list = causes.map((c, i) => `attempt ${i + 1}: ${c.message}`).join('; ');
        const fatal = new ShuffleError(`${what} failed after ${n} attempt${n > 1 ? 's' : ''} (${list})`, { cause: new AggregateError(causes, list) });
        pool.abort(fatal);
        throw fatal;
      }
      stats.retried++;
    }
  }
}

/**
 * Commits the parts an attempt hands over, in order, each as one guarded transaction in
 * this (never terminated) thread. The first refused or failed commit aborts the attempt.
 */
class Committer {
  readonly #abort = new AbortController();
  readonly final: Promise<void>;
  error: Error | undefined;
  #resolve!: () => void;

  constructor(p: Plan, split: number, attempt: number, readonly port: MessagePort) {
    this.final = new Promise<void>((resolve, reject) => {
      this.#resolve = resolve;
      this.#abort.signal.addEventListener('abort', () => reject(this.error));
    });
    this.final.catch(() => undefined);
    const fault = trigger(p.faults, 'commit', { split, attempt });
    port.on('message', (m: PartMessage) => {
      if (this.error) return;
      try {
        const entries: Entry<Uint8Array>[] = [...m.entries, [keyId(markerKey(split, m.part)), Buffer.from(JSON.stringify(m.marker))]];
        p.store.appendEntriesIf(entries, commitGuard(split, m.part, attempt), () => fault(m.part));
        if (m.marker.final) this.#resolve();
      } catch (e) {
        this.error = e instanceof Error ? e : new Error(String(e));
        this.#abort.abort(this.error);
      }
    });
  }

  /** Aborted when a commit failed. */
  get failed(): AbortSignal {
    return this.#abort.signal;
  }

  close(): void {
    this.port.close();
  }
}

/** Runs the scatter phase on `pool`; on failure an owned store is removed. */
export async function scatterPhase(p: Plan, pool: WorkerPool, group?: ScatterTask['group']): Promise<ShuffleStats> {
  const t0 = performance.now();
  const stats: ShuffleStats = { records: 0, badRecords: 0, bytesRead: 0, bytesAppended: 0, splits: 0, partitions: p.partitions, workers: p.workers, retried: 0, scatterSeconds: 0 };
  const budget = Math.max(MiB, Math.floor(p.memory / p.workers));
  let totalSplits: number | undefined = p.splits.length || undefined;
  const done = (r: ScatterResult) => {
    stats.records += r.records;
    stats.badRecords += r.bad;
    stats.bytesRead += r.bytesRead;
    stats.bytesAppended += r.bytesAppended;
    stats.splits++;
    p.progress({ phase: 'scatter', records: stats.records, bytesRead: stats.bytesRead, bytesTotal: p.bytesTotal, bytesAppended: stats.bytesAppended, splitsDone: stats.splits, splits: totalSplits });
  };
  const exec = (split: SplitSpec) =>
    withRetries(p, pool, describeSplit(split), stats, async (attempt) => {
      await grantLease(p.store, split.index, attempt); // from now on, only this attempt may commit
      const { port1, port2 } = new MessageChannel();
      const commits = new Committer(p, split.index, attempt, port1);
      const task: ScatterTask = { split, key: p.key, partitions: p.partitions, store: p.store.path, budget, onBadRecord: p.onBadRecord, group, attempt, faults: p.faults, port: port2 };
      try {
        const result = await pool.run<ScatterResult>('scatter', task, { timeoutMs: p.taskTimeout, signal: commits.failed, transferList: [port2] });
        if (result.posted > 0) await commits.final; // every part, the final one included, is committed
        return result;
      } catch (e) {
        throw commits.error ?? e; // a refused commit stopped the worker: report why
      } finally {
        commits.close();
      }
    }).then(done);
  try {
    if ('records' in p.input) {
      // Batches from the calling thread, at most 2 per worker in flight (backpressure).
      const inFlight = new Set<Promise<void>>();
      let batch: unknown[] = [];
      let index = 0;
      const send = async () => {
        const pr = exec({ kind: 'records', index: index++, records: batch });
        batch = [];
        inFlight.add(pr);
        pr.then(() => inFlight.delete(pr), () => undefined);
        if (inFlight.size >= 2 * p.workers) await Promise.race(inFlight);
      };
      for await (const record of p.input.records as AsyncIterable<unknown>) {
        p.signal?.throwIfAborted();
        batch.push(record);
        if (batch.length >= BATCH_RECORDS) await send();
      }
      if (batch.length > 0 || index === 0) await send();
      totalSplits = index;
      await Promise.all(inFlight);
    } else {
      await Promise.all(p.splits.map(exec));
    }
  } catch (e) {
    pool.abort(e);
    if (p.ownsStore) await p.store.close();
    throw p.signal?.aborted ? p.signal.reason : e;
  }
  stats.scatterSeconds = (performance.now() - t0) / 1000;
  return stats;
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
  const work = Promise.all(
    gatherBatches(p.partitions, pool.threads).map((partitions) =>
      withRetries(p, pool, partitions.length === 1 ? `partition ${partitions[0]}` : `partitions ${partitions[0]}..${partitions.at(-1)}`, retried, (attempt) =>
        pool.run<[number, R][]>('gather', { store: p.store.path, partitions, reduce, attempt, faults: p.faults } satisfies GatherTask, { timeoutMs: p.taskTimeout }),
      ).then((batch) => {
        results.push(...batch); // one result per partition, whatever the attempts
        done += batch.length;
        p.progress({ phase: 'gather', partitionsDone: done, partitions: p.partitions });
        wake?.();
      }),
    ),
  ).then(
    () => void (finished = true),
    (e: unknown) => void ((failure ??= e), (finished = true)),
  ).finally(() => wake?.());
  while (true) {
    while (results.length > 0) yield results.shift()!;
    if (failure !== undefined) throw p.signal?.aborted ? p.signal.reason : failure;
    if (finished) break;
    await new Promise<void>((r) => (wake = r));
  }
  await work;
}

/** The handle `shuffle` returns: the shuffled store, partition by partition. */
export class ShuffleHandle<T = unknown> implements AsyncDisposable {
  readonly #plan: Plan;
  readonly #codec: Msgpack<T>;
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
    return this.#codec.get(this.#check(p));
  }

  /** The records of partition `p` in batches (a partition larger than memory works). */
  iterate(p: number): AsyncIterable<T[]> {
    return this.#codec.iterate(this.#check(p));
  }

  /** Runs `reducer` (a module exporting `(batches, partition) => result`) on every partition in the workers; results by partition. */
  async gather<R>(reducer: ModuleRef): Promise<R[]> {
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

  /** Closes the store, keeping a store the caller named (a temporary one is removed). */
  async close(): Promise<void> {
    if (this.#plan.ownsStore) await this.#plan.store.close();
  }

  /** Deletes the shuffled data; a temporary store is removed. */
  async drop(): Promise<void> {
    if (this.#plan.store.closed) return;
    await this.#plan.store.drop();
    await this.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.drop();
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
