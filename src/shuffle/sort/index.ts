/**
 * `sort` and `sortToFile`, in the calling thread: a global sort on the shuffle engine
 * (docs/sort.md). The job is planned as a shuffle's (options.ts), the splits are sampled in the
 * workers and P − 1 splitters picked (sort/splitters.ts, kept in the store), the scatter phase
 * partitions the records by key range (scatter/session.ts with sort/order.ts), and the gather
 * phase sorts each partition in the workers (sort/partition.ts: in memory, or in runs merged
 * from disk), handing the partitions on in order (gather/phase.ts `inOrder`).
 */
import { describe } from '../../errors.js';
import { makeTempDir, removeTempDir } from '../../stores/temp.js';
import { gatherPhase } from '../gather/phase.js';
import { flattened } from '../groupby/index.js';
import { RECORDS_BATCH, type SplitSpec } from '../input/splits.js';
import { plan, type Plan, type ShuffleOptions } from '../options.js';
import type { SortedPartition, SortReduce } from '../protocol.js';
import { poolFor, type WorkerPool } from '../runtime/pool.js';
import { endJob } from '../runtime/end-job.js';
import { scatterPhase, type ShuffleStats } from '../scatter/phase.js';
import { ndjsonPieces, recordBatches } from './results.js';
import { keepSplitters, keptSplitters, sampleSplitters, type Splitters } from './splitters.js';
import { toFile } from '../to-file.js';

/**
 * Options of `sort`: a shuffle's (`key`: a field, or a module returning a number, a string or an
 * array of them; `memory` also bounds each partition's sort in the gather, docs/sort.md), and the direction.
 */
export interface SortOptions<T = unknown> extends ShuffleOptions<T> {
  /** Largest key first (ties still in input order). Default false. */
  descending?: boolean;
}

/** Counts of a sort: the shuffle's, and the sample's and the external sorts'. */
export interface SortStats extends ShuffleStats {
  /** Points (keys) the splitters were picked from (0 for P = 1, or when kept from an earlier run). */
  sampled: number;
  /** Sample tasks that failed and were retried. */
  sampleRetried: number;
  /** Runs spilled to disk by partitions larger than their memory share (0: every partition sorted in memory); set as partitions are gathered. */
  runs: number;
}

/**
 * Sorts the input by key, in key order across all partitions, as an async iterable of the
 * records (partition by partition, in order). Ties keep input order. `onStats` is called once,
 * when the scatter phase ends; the same object gets the gather's counts before the iteration ends.
 */
export function sort<T = unknown>(options: SortOptions<T>, onStats?: (s: SortStats) => void): AsyncIterableIterator<T> {
  return flattened(sorted(options as SortOptions, 'msgpack', onStats) as AsyncGenerator<T[]>);
}

/**
 * Sorts the input (as `sort`) into an NDJSON file, one record a line: written aside and renamed
 * into place once the sort has succeeded. Resolves to the job's counts.
 */
export async function sortToFile(options: SortOptions, file: string): Promise<SortStats> {
  return toFile(file, (onStats: (s: SortStats) => void) => sortedNdjson(options, onStats));
}

/** The sorted records as NDJSON bytes, made in the workers (the CLI writes them as they come). */
export function sortedNdjson(options: SortOptions, onStats?: (s: SortStats) => void): AsyncGenerator<Uint8Array> {
  return sorted(options, 'ndjson', onStats) as AsyncGenerator<Uint8Array>;
}

/** The job: record batches (`msgpack`) or NDJSON pieces, in order. */
async function* sorted(
  options: SortOptions,
  format: SortReduce['format'],
  onStats?: (s: SortStats) => void,
): AsyncGenerator<unknown[] | Uint8Array> {
  const descending = options?.descending ?? false;
  if (typeof descending !== 'boolean') throw new TypeError(`descending: expected a boolean, got ${describe(descending)}`);
  const p = await plan(options, undefined, { names: ['descending'], job: { sort: { descending } }, typedKey: true });
  const pool = poolFor(p); // one pool for the three phases: threads start once
  const spill = makeTempDir('sort');
  try {
    const stats = { sampled: 0, sampleRetried: 0, runs: 0 };
    const { plan: scattered, splitters } = await splittersOf(p, pool, descending, stats);
    const all: SortStats = Object.assign(
      await scatterPhase(scattered, pool, { range: { splitters: splitters.splitters, descending } }),
      stats,
    );
    onStats?.(all);
    const reduce: SortReduce = { kind: 'sort', descending, budget: Math.floor(p.memory / pool.threads), spill, format };
    for await (const [partition, part] of gatherPhase<SortedPartition>(p, pool, reduce, all, { inOrder: { ahead: 2 * pool.threads } })) {
      all.runs += part.runs;
      if (format === 'ndjson') yield* ndjsonPieces(part);
      else yield* recordBatches(part, partition);
    }
  } finally {
    removeTempDir(spill);
    await endJob(p, pool, options.store === undefined);
  }
}

/**
 * The job's splitters: kept by the run it resumes, else sampled (none for P = 1) and kept. A
 * records input is read first (the sample must see it before the scatter), and the scatter then
 * reads it from memory, in the same batches.
 */
async function splittersOf(
  p: Plan,
  pool: WorkerPool,
  descending: boolean,
  stats: { sampled: number; sampleRetried: number },
): Promise<{ plan: Plan; splitters: Splitters }> {
  const kept = await keptSplitters(p.store);
  if (kept) return { plan: p, splitters: kept };
  if (p.partitions === 1) return { plan: p, splitters: { splitters: [], sampled: 0 } };
  let scattered = p;
  let splits = p.splits;
  if ('records' in p.input) {
    const records: unknown[] = [];
    for await (const r of p.input.records) {
      p.signal?.throwIfAborted();
      records.push(r);
    }
    splits = [];
    for (let i = 0; i * RECORDS_BATCH < records.length; i++)
      splits.push({ kind: 'records', index: i, records: records.slice(i * RECORDS_BATCH, (i + 1) * RECORDS_BATCH) } satisfies SplitSpec);
    scattered = { ...p, input: { records } };
  }
  const retried = { retried: 0 };
  const progress = (done: number) => p.progress({ phase: 'sample', splitsDone: done, splits: splits.length });
  const splitters = await sampleSplitters(p, pool, splits, descending, retried, progress);
  stats.sampleRetried = retried.retried;
  stats.sampled = splitters.sampled;
  await keepSplitters(p.store, splitters);
  return { plan: scattered, splitters };
}
