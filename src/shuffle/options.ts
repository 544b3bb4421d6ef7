/**
 * The options of `shuffle`, `groupBy` and `sort` (PlanExtension), checked before any work, and
 * the job they describe (`join` plans its two inputs with the same checks: join/options.ts):
 * its splits are planned once and kept in the store (runtime/commits.ts), so a re-run on a kept
 * store resumes the same splits whatever the worker count.
 */
import os from 'node:os';
import { describe } from '../errors.js';
import { Lmdb } from '../stores/lmdb/lmdb.js';
import { openJob } from './runtime/job.js';
import { faultsOf, type Fault } from './runtime/faults.js';
import { resolveRef, type ModuleRef } from './runtime/modules.js';
import { settleKinds, specOf, type Aggregation, type PlannedAgg } from './groupby/aggregations.js';
import { opsTaking } from './groupby/ops.js';
import type { KeySpec } from './protocol.js';
import { checkNames, positiveInt } from './checks.js';
import { planInput, type FieldType } from './input/plan.js';
import { checkCluster, checkJobName, type ClusterOptions, type ClusterSettings } from './cluster/link.js';
import type { SplitSpec } from './input/splits.js';

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
  | {
      phase: 'scatter';
      records: number;
      bytesRead: number;
      bytesTotal: number;
      bytesAppended: number;
      splitsDone: number;
      splits: number | undefined;
    }
  | { phase: 'gather'; partitionsDone: number; partitions: number }
  /** A sort's sample of the splits, before the scatter (sort/splitters.ts). */
  | { phase: 'sample'; splitsDone: number; splits: number };

/** Options of `shuffle` and `groupBy`. */
export interface ShuffleOptions<T = unknown> {
  input: ShuffleInput<T>;
  /** A field name, or a module exporting `(record) => key` (a string or number). */
  key: string | ModuleRef;
  /** P, the number of partitions (default 128, at most 65,536). */
  partitions?: number;
  /** Worker threads (default: available parallelism; at most 256, and at most one per split). */
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
  /** Heap limit of each worker thread in MiB (Node's `resourceLimits.maxOldGenerationSizeMb`), at least 16. */
  workerHeapMB?: number;
  /**
   * How many splits to cut a `generate`, `make`, `ndjson` or `csv` input into (file splits
   * end at line or record ends, so a file may give fewer). Workers take splits one at a time.
   * Default: about 16 ranges per worker of 50k to 1M records, and file splits of 1 to 64 MiB,
   * about 4 per worker.
   */
  splits?: number;
  /**
   * Field types (docs/types.md): how CSV columns are read (`number`: numeric text becomes a
   * number; `string`: kept as written), and a check on the key and aggregated fields of other
   * inputs. Undeclared CSV columns: the key is a string, sum/mean fields numbers, others inferred.
   */
  types?: Record<string, FieldType>;
  /**
   * Run the job on `partd worker` processes (on any number of machines) through Redis, instead
   * of this process's threads (docs/cluster.md); `store` is then the job's name in Redis.
   */
  cluster?: ClusterOptions;
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
  /** Test-only fault injection: the internal option `options[FAULTS]` (runtime/faults.ts). */
  faults: Fault[];
  /** The planned splits (none for a records input, which is cut while it is read). */
  splits: SplitSpec[];
  /** Ends the job's claim on its store (before the store is closed); again is a no-op. */
  release: () => Promise<void>;
  bytesTotal: number;
}

const MiB = 1 << 20;
/** The most partitions a job takes: every partition costs a buffer per worker and a read in the gather phase. */
export const MAX_PARTITIONS = 65_536;
/** The smallest `workerHeapMB`: a worker thread needs about 8 MiB to start and load lmdb-js. */
const MIN_HEAP_MB = 16;
/** The most worker threads a job starts: each costs a V8 heap. */
export const MAX_WORKERS = 256;
/** The option names every job takes alike (checkRun's), in the order errors list them. */
export const RUN_OPTION_NAMES = [
  'partitions',
  'workers',
  'memory',
  'store',
  'onBadRecord',
  'progress',
  'retries',
  'taskTimeout',
  'signal',
  'workerHeapMB',
  'splits',
  'types',
] as const;
const OPTION_NAMES = ['input', 'key', ...RUN_OPTION_NAMES, 'cluster'] as const;

/** The options every job takes alike (shuffle, groupBy, sort, join), checked; `workers` as asked. */
export interface RunOptions {
  faults: Fault[];
  partitions: number;
  workers: number;
  memory: number;
  retries: number;
  taskTimeout?: number;
  workerHeapMB?: number;
  onBadRecord: 'error' | 'skip';
  signal?: AbortSignal;
  progress: (p: Progress) => void;
  types: Record<string, FieldType>;
}

/** Checks the options every job takes alike (the caller checks the names). */
export function checkRun(options: Omit<ShuffleOptions, 'input' | 'key'>): RunOptions {
  const faults = faultsOf(options); // tests only (runtime/faults.ts)
  const partitions = positiveInt(options.partitions, 'partitions', 128, 1, MAX_PARTITIONS);
  const workers = positiveInt(options.workers, 'workers', os.availableParallelism(), 1, MAX_WORKERS);
  const memory = positiveInt(options.memory, 'memory', 256 * MiB);
  const retries = positiveInt(options.retries, 'retries', 2, 0);
  const taskTimeout = options.taskTimeout === undefined ? undefined : positiveInt(options.taskTimeout, 'taskTimeout', 0);
  const workerHeapMB = options.workerHeapMB === undefined ? undefined : positiveInt(options.workerHeapMB, 'workerHeapMB', 0, MIN_HEAP_MB);
  if (options.onBadRecord !== undefined && options.onBadRecord !== 'error' && options.onBadRecord !== 'skip') {
    throw new RangeError(`onBadRecord: expected 'error' or 'skip', got ${describe(options.onBadRecord)}`);
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) throw new TypeError('signal: expected an AbortSignal');
  options.signal?.throwIfAborted();
  if (options.progress !== undefined && typeof options.progress !== 'function') throw new TypeError('progress: expected a function');
  const types = checkTypes(options.types);
  const onBadRecord = options.onBadRecord ?? 'error';
  const progress = options.progress ?? (() => undefined);
  return { faults, partitions, workers, memory, retries, taskTimeout, workerHeapMB, onBadRecord, signal: options.signal, progress, types };
}

/** A key option (`arg` names it): a field name, with its declared type if any, or `{ module, export }`. */
export async function keySpec(key: unknown, types: Record<string, FieldType>, arg: string): Promise<KeySpec> {
  if (typeof key === 'string' && key !== '') return Object.hasOwn(types, key) ? { field: key, type: types[key]! } : { field: key };
  if (key && typeof key === 'object') return resolveRef(key, arg);
  throw new TypeError(`${arg}: expected a field name or { module, export }, got ${describe(key)}`);
}

/** What an operation built on this engine (sort) adds to a job: its option names, and what tells its job record apart. */
export interface PlanExtension {
  names: readonly string[];
  job: Record<string, unknown>;
  /** A CSV key column is typed as the other columns are (declared or inferred), not read as text. */
  typedKey?: boolean;
}

/** Checks every option before any work starts, and opens (or resumes) the job's store. */
export async function plan(
  options: ShuffleOptions,
  group?: { plan: PlannedAgg[]; combine: boolean },
  extension?: PlanExtension,
): Promise<Plan> {
  const { job, checked } = await checkJob(options, group, extension);
  if (checked.cluster) throw new RangeError('cluster: this operation runs on one machine only (shuffle and groupBy run on a cluster)');
  checkStore(options.store);
  const { store, ownsStore, splits, release } = await openJob(options.store, job);
  return { ...checked, store, ownsStore, splits, release };
}

/** A job checked, before its store is opened: the plan but for the store, and the job record (its splits planned). */
export interface CheckedJob {
  checked: Omit<Plan, 'store' | 'ownsStore' | 'release'> & { cluster?: ClusterSettings; name?: string };
  job: { splits: SplitSpec[] } & Record<string, unknown>;
}

/** Checks every option and plans the input (see `plan`). */
export async function checkJob(
  options: ShuffleOptions,
  group?: { plan: PlannedAgg[]; combine: boolean },
  extension?: PlanExtension,
): Promise<CheckedJob> {
  if (options === null || typeof options !== 'object') throw new TypeError('options: expected an object');
  const names = [...OPTION_NAMES, ...(group ? ['aggregate'] : []), ...(extension?.names ?? [])];
  checkNames(options, names, 'options'); // string keys: the internal FAULTS option is a symbol
  const run = checkRun(options);
  const { faults, partitions, workers: asked, memory, retries, taskTimeout, workerHeapMB, types } = run;
  const key = await keySpec(options.key, types, 'key');
  const aggs = group?.plan ?? [];
  const numeric = aggs.filter((a) => specOf(a).takes === 'numbers').map((a) => a.field!);
  for (const f of numeric)
    if (types[f] === 'string')
      throw new RangeError(
        `types.${f}: ${opsTaking('numbers').join(' and ')} take numbers, and types declares ${JSON.stringify(f)} a string`,
      );
  const fields = aggs.flatMap((a) => (a.field === undefined ? [] : [a.field]));
  const splitCount = options.splits === undefined ? undefined : positiveInt(options.splits, 'splits', 0);
  const whole = group === undefined || !('field' in key) || aggs.some((a) => specOf(a).field === 'optional' && a.field === undefined);
  const reads = { key: 'field' in key ? key.field : undefined, typedKey: extension?.typedKey, numeric, fields, types, whole };
  const { splits, bytesTotal, descriptor, stringFields } = await planInput(options.input, asked, splitCount, reads);
  // a thread per split at most: more would start and sit idle (a records input is cut as it is read)
  const workers = splits.length > 0 ? Math.min(asked, splits.length) : asked;
  const csv = typeof options.input === 'object' && options.input !== null && 'csv' in options.input; // CSV columns are typed as they are read
  settleKinds(aggs, types, stringFields, csv);
  const cluster = options.cluster === undefined ? undefined : checkCluster(options.cluster);
  const name = cluster ? checkJobName(options.store) : undefined;
  const job = { version: 2, input: descriptor, key, types, partitions, group: group?.plan ?? null, ...extension?.job, splits };
  const checked = {
    partitions,
    workers,
    memory,
    key,
    onBadRecord: run.onBadRecord,
    progress: run.progress,
    input: options.input as ShuffleInput,
    retries,
    taskTimeout,
    signal: run.signal,
    workerHeapMB,
    faults,
    splits,
    bytesTotal,
    ...(cluster && { cluster }),
    ...(name !== undefined && { name }),
  };
  return { job, checked };
}

/** The `store` option: an Lmdb, a directory, or none (a temporary store). */
export function checkStore(store: unknown): asserts store is string | Lmdb | undefined {
  if (store !== undefined && typeof store !== 'string' && !(store instanceof Lmdb)) {
    throw new TypeError(`store: expected an Lmdb store or a directory path, got ${describe(store)}`);
  }
}

/** The `types` option: field → 'string' | 'number'. */
function checkTypes(types: unknown): Record<string, FieldType> {
  if (types === undefined) return {};
  if (types === null || typeof types !== 'object' || Array.isArray(types))
    throw new TypeError(`types: expected { field: 'string' | 'number' }, got ${describe(types)}`);
  for (const [field, type] of Object.entries(types)) {
    if (type !== 'string' && type !== 'number')
      throw new RangeError(`types.${field}: expected 'string' or 'number', got ${describe(type)}`);
  }
  return Object.assign(Object.create(null) as Record<string, FieldType>, types); // no inherited names: a field may be called `constructor`
}
