/**
 * Where a groupBy's phases run: this process's worker threads over an Lmdb store (the local
 * engine), or `partd worker` processes through Redis (`cluster`: cluster/job.ts), the same
 * way. Runs in the calling thread.
 */
import { gatherPhase, type GatherStats } from './gather/phase.js';
import { checkJob, plan, type ShuffleOptions } from './options.js';
import type { GatherTask, ScatterMode } from './protocol.js';
import { endJob } from './runtime/end-job.js';
import { poolFor } from './runtime/pool.js';
import { scatterPhase, type ShuffleStats } from './scatter/phase.js';
import { ClusterJob } from './cluster/job.js';
import type { PlannedAgg } from './groupby/aggregations.js';

/** A job's phases, wherever they run. */
export interface Engine {
  scatter(mode: ScatterMode): Promise<ShuffleStats>;
  gather<R>(reduce: GatherTask['reduce'], stats: GatherStats): AsyncGenerator<[number, R]>;
  /** Ends the job: its pool closed, its claim released, a temporary store (every distributed job's keys) removed. */
  end(): Promise<void>;
}

/** Checks the options and opens the job where it runs. */
export async function openEngine(options: ShuffleOptions, group: { plan: PlannedAgg[]; combine: boolean }): Promise<Engine> {
  if (options !== null && typeof options === 'object' && options.cluster !== undefined) {
    const job = await ClusterJob.start(await checkJob(options, group));
    return { scatter: (mode) => job.scatter(mode), gather: (reduce, stats) => job.gather(reduce, stats), end: () => job.end() };
  }
  const p = await plan(options, group);
  const pool = poolFor(p); // one pool for both phases: threads start once
  return {
    scatter: (mode) => scatterPhase(p, pool, mode),
    gather: (reduce, stats) => gatherPhase(p, pool, reduce, stats),
    end: () => endJob(p, pool, options.store === undefined),
  };
}
