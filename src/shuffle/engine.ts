/**
 * Where a job's phases run: this process's worker threads over an Lmdb store (the local
 * engine), or `partd worker` processes through Redis (`cluster`: cluster/job.ts), the same
 * way. The one place that tells them apart, for `groupBy` and for `shuffle` and its handle.
 * Runs in the calling thread.
 */
import { Msgpack } from '../layers/values.js';
import { mostSplits } from './input/plan.js';
import type { Lmdb } from '../stores/lmdb/lmdb.js';
import { Dict } from '../stores/dict.js';
import { gatherPhase, type GatherStats } from './gather/phase.js';
import { checkJob, checkRun, plan, type Plan, type ShuffleOptions } from './options.js';
import type { GatherTask, ScatterMode } from './protocol.js';
import { endJob } from './runtime/end-job.js';
import { poolFor, type WorkerPool } from './runtime/pool.js';
import { scatterPhase, type ShuffleStats } from './scatter/phase.js';
import { ClusterJob } from './cluster/job.js';
import type { PlannedAgg } from './groupby/aggregations.js';

/** A job's phases, and its shuffled partitions, wherever they run. */
export interface Engine {
  scatter(mode: ScatterMode): Promise<ShuffleStats>;
  gather<R>(reduce: GatherTask['reduce'], stats: GatherStats): AsyncGenerator<[number, R]>;
  /** All records of partition `p` (MessagePack records, as `shuffle` writes them). */
  get(p: number): Promise<unknown[]>;
  /** The records of partition `p` in batches, never all in memory at once. */
  iterate(p: number): AsyncIterable<unknown[]>;
  /** The local store; a distributed job has none (its partitions are blocks in Redis). */
  readonly store: Lmdb | undefined;
  /** Stops the job's threads until a phase needs them again: a handle holds none while it waits. */
  idle(): Promise<void>;
  /**
   * Ends the job: its threads stopped, its claim released, its store closed — and dropped when
   * `drop` (default: when temporary). A distributed job's keys are all removed.
   */
  end(drop?: boolean): Promise<void>;
}

/** Checks the options and opens the job where it runs. */
export async function openEngine(options: ShuffleOptions, group?: { plan: PlannedAgg[]; combine: boolean }): Promise<Engine> {
  if (options !== null && typeof options === 'object' && options.cluster !== undefined)
    return clusterEngine(await ClusterJob.start(await checkJob(options, group)));
  // the threads start while the input is planned (sampled, cut, its store opened): a thread's start is a small job's wait
  let pool = earlyPool(options);
  try {
    const p = await plan(options, group);
    // more splits than the files' sizes promised (a kept store's, planned with another `splits`): threads for all
    if (pool && pool.threads < p.workers) {
      const fewer = pool;
      pool = undefined;
      await fewer.close();
    }
    return localEngine(p, options.store === undefined, pool);
  } catch (e) {
    await pool?.close();
    throw e;
  }
}

/**
 * The job's threads: as many as asked, or as the input's splits can use if fewer (a small file's
 * one split, one thread: a thread that would sit idle still costs a core its start); none when
 * the options are wrong, as planning says.
 */
function earlyPool(options: ShuffleOptions): WorkerPool | undefined {
  let run;
  try {
    run = checkRun(options);
  } catch {
    return undefined;
  }
  const { splits } = options as { splits?: unknown };
  const splitCount = Number.isSafeInteger(splits) && (splits as number) > 0 ? (splits as number) : undefined; // else planning says what is wrong
  const threads = Math.max(1, Math.min(run.workers, mostSplits(options.input, run.workers, splitCount)));
  return poolFor({ workers: run.workers, workerHeapMB: run.workerHeapMB, signal: run.signal }, threads);
}

function localEngine(p: Plan, temporary: boolean, early: WorkerPool | undefined): Engine {
  let pool = early; // one for both phases of a groupBy: threads start once
  const codec = new Msgpack<unknown>(p.store);
  return {
    scatter: (mode) => scatterPhase(p, (pool ??= poolFor(p)), mode),
    gather: (reduce, stats) => gatherPhase(p, (pool ??= poolFor(p, Math.min(p.workers, p.partitions))), reduce, stats),
    get: (partition) => codec.get(partition),
    iterate: (partition) => codec.iterate(partition),
    store: p.store,
    idle: async () => {
      const was = pool;
      pool = undefined;
      await was?.close();
    },
    end: async (drop = temporary) => {
      const was = pool;
      pool = undefined;
      await endJob(p, was, drop);
    },
  };
}

function clusterEngine(job: ClusterJob): Engine {
  return {
    scatter: (mode) => job.scatter(mode),
    gather: (reduce, stats) => job.gather(reduce, stats),
    get: async (p) => (await decoded(p, await job.partition(p))).get(p),
    iterate: (p) =>
      (async function* () {
        for await (const split of job.iterate(p)) yield* (await decoded(p, split)).iterate(p);
      })(),
    store: undefined,
    idle: async () => undefined,
    end: () => job.end(),
  };
}

/** Blocks of partition `p` as a store holding them under `p`, decoded as the local store's are. */
async function decoded(p: number, chunks: Buffer[]): Promise<Msgpack<unknown>> {
  const dict = new Dict();
  await dict.append(new Map([[p, Buffer.concat(chunks)]]));
  return new Msgpack<unknown>(dict);
}
