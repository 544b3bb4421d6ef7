/**
 * The options of `shuffle` and `groupBy`, checked before any work, and the job they describe:
 * its splits are planned once and kept in the store (commits.ts), so a re-run on a kept store
 * resumes the same splits whatever the worker count.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe } from '../errors.js';
import { Lmdb } from '../stores/lmdb.js';
import { openJob } from './job.js';
import { faultsFromEnv, type Fault } from './faults.js';
import { resolveRef, type ModuleRef } from './modules.js';
import type { Aggregation, PlannedAgg } from './reducers.js';
import type { KeySpec } from './scatter.js';
import { csvSplits } from './csv.js';
import { ndjsonSplits, rangeSplits, type SplitSpec } from './splits.js';

/**
 * Where records come from:
 * - `generate`: a module exporting `(start, end) => Iterable` of the records with indexes in
 *   `[start, end)`, run in the workers over splits of `[0, count)`;
 * - `make`: the same with one call per record, `(i) => record` (a plain loop, no iterator
 *   protocol: the cheaper form when records are made one by one);
 * - `ndjson` / `csv`: files, cut into byte ranges; `records`: an iterable in this thread.
 */
export type ShuffleInput<T = unknown> =
  | { generate: ModuleRef; count: number }
  | { make: ModuleRef; count: number }
  | { ndjson: string | string[] }
  | { csv: string | string[] }
  | { records: Iterable<T> | AsyncIterable<T> };

/** What a progress callback receives. */
export type Progress =
  | { phase: 'scatter'; records: number; bytesRead: number; bytesTotal: number; bytesAppended: number; splitsDone: number; splits: number | undefined }
  | { phase: 'gather'; partitionsDone: number; partitions: number };

/** Options of `shuffle` and `groupBy`. */
export interface ShuffleOptions<T = unknown> {
  input: ShuffleInput<T>;
  /** A field name, or a module exporting `(record) => key` (a string or number). */
  key: string | ModuleRef;
  /** P, the number of partitions (default 128). */
  partitions?: number;
  /** Worker threads (default: available parallelism). */
  workers?: number;
  /** Bytes that the scatter buffers of all workers may hold together (default 256 MiB). */
  memory?: number;
  /**
   * An Lmdb store or its directory (default: a temporary Lmdb, removed at the end). A kept
   * store remembers the job: running the same job on it again resumes it.
   */
  store?: string | Lmdb;
  /** A malformed line or a record without its key: fail (default), or skip and count it. */
  onBadRecord?: 'error' | 'skip';
  /** Called as splits and partitions complete. */
  progress?: (p: Progress) => void;
  /** Attempts after the first for a split or partition whose worker failed (default 2). */
  retries?: number;
  /** Milliseconds a worker may spend on one split (reading it, and committing at the end) or one gather task before it is terminated and that work retried (default: no limit). */
  taskTimeout?: number;
  /** Aborting stops the workers and rejects with the signal's reason (an AbortError). */
  signal?: AbortSignal;
  /** Heap limit of each worker thread in MiB (Node's `resourceLimits.maxOldGenerationSizeMb`). */
  workerHeapMB?: number;
  /**
   * How many splits to cut a `generate`, `make`, `ndjson` or `csv` input into (file splits
   * end at line or record ends, so a file may give fewer). Workers take splits one at a time.
   * Default: about 16 ranges per worker of 50k to 1M records, and file splits of 1 to 64 MiB,
   * about 4 per worker.
   */
  splits?: number;
}

/** Options of `groupBy`: a shuffle's plus the aggregations, by output name. */
export interface GroupByOptions<T = unknown> extends ShuffleOptions<T> {
  aggregate: Record<string, Aggregation>;
}

/** A checked job, ready to run. */
export interface Plan {
  partitions: number;
  workers: number;
  memory: number;
  key: KeySpec;
  onBadRecord: 'error' | 'skip';
  store: Lmdb;
  ownsStore: boolean;
  progress: (p: Progress) => void;
  input: ShuffleInput;
  retries: number;
  taskTimeout?: number;
  signal?: AbortSignal;
  workerHeapMB?: number;
  faults: Fault[];
  /** The planned splits (none for a records input, which is cut while it is read). */
  splits: SplitSpec[];
  /** Ends the job's claim on its store (before the store is closed); again is a no-op. */
  release: () => Promise<void>;
  bytesTotal: number;
}

const MiB = 1 << 20;
/** The sizes of range splits a default plan makes: big enough that handing one out costs little. */
const RANGE_SPLIT_MIN = 50_000;
const RANGE_SPLIT_MAX = 1_000_000;

function positiveInt(value: unknown, arg: string, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${arg}: expected ${min === 0 ? 'a non-negative' : 'a positive'} integer, got ${describe(value)}`);
  }
  return value;
}

/** Checks every option before any work starts, and opens (or resumes) the job's store. */
export async function plan(options: ShuffleOptions, group?: { plan: PlannedAgg[]; combine: boolean }): Promise<Plan> {
  if (options === null || typeof options !== 'object') throw new TypeError('options: expected an object');
  const partitions = positiveInt(options.partitions, 'partitions', 128);
  const workers = positiveInt(options.workers, 'workers', os.availableParallelism());
  const memory = positiveInt(options.memory, 'memory', 256 * MiB);
  const retries = positiveInt(options.retries, 'retries', 2, 0);
  const taskTimeout = options.taskTimeout === undefined ? undefined : positiveInt(options.taskTimeout, 'taskTimeout', 0);
  const workerHeapMB = options.workerHeapMB === undefined ? undefined : positiveInt(options.workerHeapMB, 'workerHeapMB', 0);
  if (options.onBadRecord !== undefined && options.onBadRecord !== 'error' && options.onBadRecord !== 'skip') {
    throw new RangeError(`onBadRecord: expected 'error' or 'skip', got ${describe(options.onBadRecord)}`);
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) throw new TypeError('signal: expected an AbortSignal');
  options.signal?.throwIfAborted();
  if (options.progress !== undefined && typeof options.progress !== 'function') throw new TypeError('progress: expected a function');
  let key: KeySpec;
  if (typeof options.key === 'string' && options.key !== '') key = { field: options.key };
  else if (options.key && typeof options.key === 'object') key = await resolveRef(options.key, 'key');
  else throw new TypeError(`key: expected a field name or { module, export }, got ${describe(options.key)}`);
  const input = options.input as ShuffleInput | undefined;
  const splitCount = options.splits === undefined ? undefined : positiveInt(options.splits, 'splits', 0);
  const { splits, bytesTotal, descriptor } = await planInput(input, workers, splitCount);
  if (options.store !== undefined && typeof options.store !== 'string' && !(options.store instanceof Lmdb)) {
    throw new TypeError(`store: expected an Lmdb store or a directory path, got ${describe(options.store)}`);
  }
  const job = { version: 1, input: descriptor, key, partitions, group: group?.plan ?? null, splits };
  const { store, ownsStore, splits: planned, release } = await openJob(options.store, job);
  return {
    partitions, workers, memory, key, onBadRecord: options.onBadRecord ?? 'error', store, ownsStore,
    progress: options.progress ?? (() => undefined), input: input!, retries, taskTimeout, signal: options.signal, workerHeapMB,
    faults: faultsFromEnv(), splits: planned, release, bytesTotal,
  };
}

/** Checks the input and plans its splits; `descriptor` identifies it for resuming. */
async function planInput(input: ShuffleInput | undefined, workers: number, splitCount?: number): Promise<{ splits: SplitSpec[]; bytesTotal: number; descriptor: unknown }> {
  const kinds = 'expected { generate, count }, { make, count }, { ndjson }, { csv } or { records }';
  if (!input || typeof input !== 'object') throw new TypeError(`input: ${kinds}`);
  if ('generate' in input || 'make' in input) {
    const perIndex = 'make' in input;
    const ref = await resolveRef(perIndex ? input.make : input.generate, perIndex ? 'input.make' : 'input.generate');
    const count = positiveInt(input.count, 'input.count', NaN);
    // About 16 ranges per worker, handed out one at a time (scatter-phase.ts): a thread that
    // runs slower takes fewer, so the threads end within one small range of each other.
    const n = splitCount ?? Math.ceil(count / Math.min(RANGE_SPLIT_MAX, Math.max(RANGE_SPLIT_MIN, Math.ceil(count / (16 * workers)))));
    const splits = rangeSplits(count, Math.ceil(count / n), ref, perIndex);
    return { splits, bytesTotal: 0, descriptor: perIndex ? { make: ref, count } : { generate: ref, count } };
  }
  if ('ndjson' in input || 'csv' in input) {
    const csv = 'csv' in input;
    const files = [csv ? (input as { csv: unknown }).csv : (input as { ndjson: unknown }).ndjson].flat() as unknown[];
    if (files.length === 0) throw new RangeError('input: no files given');
    for (const f of files) {
      if (typeof f !== 'string') throw new TypeError(`input: expected file paths, got ${describe(f)}`);
      if (!fs.existsSync(f)) throw new Error(`input: file ${JSON.stringify(f)} does not exist`);
      if (!fs.statSync(f).isFile()) throw new Error(`input: ${JSON.stringify(f)} is not a file`);
    }
    const paths = (files as string[]).map((f) => path.resolve(f));
    const bytesTotal = paths.reduce((n, f) => n + fs.statSync(f).size, 0);
    const per = splitCount ? Math.max(1, Math.ceil(bytesTotal / splitCount)) : Math.max(MiB, Math.min(64 * MiB, Math.ceil(bytesTotal / (4 * workers))));
    const splits: SplitSpec[] = [];
    for (const f of paths) splits.push(...(csv ? csvSplits(f, per, splits.length) : ndjsonSplits(f, per, splits.length)));
    return { splits, bytesTotal, descriptor: { [csv ? 'csv' : 'ndjson']: paths.map((f) => [f, fs.statSync(f).size, fs.statSync(f).mtimeMs]) } };
  }
  if ('records' in input) {
    const r = input.records as unknown as Record<symbol, unknown> | null;
    if (!r || (typeof r[Symbol.iterator] !== 'function' && typeof r[Symbol.asyncIterator] !== 'function')) throw new TypeError('input.records: expected an iterable or async iterable');
    if (splitCount !== undefined) throw new RangeError('splits: a records input is cut into batches as it is read; splits applies to generate, make, ndjson and csv inputs');
    return { splits: [], bytesTotal: 0, descriptor: { records: true } };
  }
  throw new TypeError(`input: ${kinds}`);
}
