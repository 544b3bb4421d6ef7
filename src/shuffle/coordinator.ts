/**
 * The coordinator: validates options, cuts the input into splits, runs scatter tasks on a
 * pool of worker threads, and hands back the shuffled store (`shuffle`) — or runs the
 * gather phase on it (`ShuffleHandle.gather`, `groupBy`).
 */
import fs from 'node:fs';
import os from 'node:os';
import { BadRecordError, ShuffleError, describe } from '../errors.js';
import { Msgpack } from '../layers/values.js';
import { Lmdb } from '../stores/lmdb.js';
import type { GatherTask } from './gather.js';
import { resolveRef, type ModuleRef } from './modules.js';
import { WorkerPool, withPool } from './pool.js';
import type { PlannedAgg } from './reducers.js';
import type { KeySpec, ScatterResult, ScatterTask } from './scatter.js';
import { csvSplits, describeSplit, ndjsonSplits, rangeSplits, type SplitSpec } from './splits.js';

/** Where records come from. */
export type ShuffleInput<T = unknown> =
  | { generate: ModuleRef; count: number }
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
  /** An Lmdb store or its directory (default: a temporary Lmdb, removed by `drop()`). */
  store?: string | Lmdb;
  /** A malformed line or a record without its key: fail (default), or skip and count it. */
  onBadRecord?: 'error' | 'skip';
  /** Called as splits and partitions complete. */
  progress?: (p: Progress) => void;
}

/** Counts of one shuffle. */
export interface ShuffleStats {
  records: number;
  badRecords: number;
  bytesRead: number;
  bytesAppended: number;
  splits: number;
  partitions: number;
  workers: number;
  scatterSeconds: number;
}

/** A validated run. */
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
}

const MiB = 1 << 20;
const BATCH_RECORDS = 10_000;

function positiveInt(value: unknown, arg: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw new RangeError(`${arg}: expected a positive integer, got ${describe(value)}`);
  return value;
}

/** Checks every option before any work starts. */
export async function plan(options: ShuffleOptions): Promise<Plan> {
  if (options === null || typeof options !== 'object') throw new TypeError('options: expected an object');
  const partitions = positiveInt(options.partitions, 'partitions', 128);
  const workers = positiveInt(options.workers, 'workers', os.availableParallelism());
  const memory = positiveInt(options.memory, 'memory', 256 * MiB);
  if (options.onBadRecord !== undefined && options.onBadRecord !== 'error' && options.onBadRecord !== 'skip') {
    throw new RangeError(`onBadRecord: expected 'error' or 'skip', got ${describe(options.onBadRecord)}`);
  }
  let key: KeySpec;
  if (typeof options.key === 'string' && options.key !== '') key = { field: options.key };
  else if (options.key && typeof options.key === 'object') key = await resolveRef(options.key, 'key');
  else throw new TypeError(`key: expected a field name or { module, export }, got ${describe(options.key)}`);
  const input = options.input as ShuffleInput | undefined;
  if (!input || typeof input !== 'object') throw new TypeError('input: expected { generate, count }, { ndjson }, { csv } or { records }');
  if ('generate' in input) {
    await resolveRef(input.generate, 'input.generate');
    positiveInt(input.count, 'input.count', 0);
  } else if ('ndjson' in input || 'csv' in input) {
    const files = [('ndjson' in input ? input.ndjson : input.csv)].flat();
    if (files.length === 0) throw new RangeError('input: no files given');
    for (const f of files) {
      if (typeof f !== 'string') throw new TypeError(`input: expected file paths, got ${describe(f)}`);
      if (!fs.existsSync(f)) throw new Error(`input: file ${JSON.stringify(f)} does not exist`);
    }
  } else if ('records' in input) {
    const r = input.records as unknown as Record<symbol, unknown> | null;
    if (!r || (typeof r[Symbol.iterator] !== 'function' && typeof r[Symbol.asyncIterator] !== 'function')) throw new TypeError('input.records: expected an iterable or async iterable');
  } else throw new TypeError('input: expected { generate, count }, { ndjson }, { csv } or { records }');
  let store: Lmdb;
  const ownsStore = !(options.store instanceof Lmdb);
  if (options.store instanceof Lmdb) store = options.store;
  else if (options.store === undefined || typeof options.store === 'string') store = new Lmdb(options.store);
  else throw new TypeError(`store: expected an Lmdb store or a directory path, got ${describe(options.store)}`);
  return { partitions, workers, memory, key, onBadRecord: options.onBadRecord ?? 'error', store, ownsStore, progress: options.progress ?? (() => undefined), input };
}

/** Splits of the file and generator inputs (records inputs are cut while they are read). */
async function fileSplits(p: Plan): Promise<{ splits: SplitSpec[]; bytesTotal: number }> {
  const input = p.input;
  if ('generate' in input) {
    const ref = await resolveRef(input.generate, 'input.generate');
    // Two splits per worker: few enough that per-split commits stay large, enough to even out.
    const per = Math.max(1, Math.ceil(input.count / (2 * p.workers)));
    return { splits: rangeSplits(input.count, per, ref), bytesTotal: 0 };
  }
  const csv = 'csv' in input;
  const files = [csv ? (input as { csv: string | string[] }).csv : (input as { ndjson: string | string[] }).ndjson].flat();
  const bytesTotal = files.reduce((n, f) => n + fs.statSync(f).size, 0);
  const per = Math.max(MiB, Math.min(64 * MiB, Math.ceil(bytesTotal / (4 * p.workers))));
  const splits: SplitSpec[] = [];
  for (const f of files) splits.push(...(csv ? csvSplits(f, per, splits.length) : ndjsonSplits(f, per, splits.length)));
  return { splits, bytesTotal };
}

/** Runs the scatter phase on `pool`; on failure an owned store is removed. */
export async function scatterPhase(p: Plan, pool: WorkerPool, group?: ScatterTask['group']): Promise<ShuffleStats> {
  const t0 = performance.now();
  const stats: ShuffleStats = { records: 0, badRecords: 0, bytesRead: 0, bytesAppended: 0, splits: 0, partitions: p.partitions, workers: p.workers, scatterSeconds: 0 };
  const budget = Math.max(MiB, Math.floor(p.memory / p.workers));
  const task = (split: SplitSpec): ScatterTask => ({ split, key: p.key, partitions: p.partitions, store: p.store.path, budget, onBadRecord: p.onBadRecord, group });
  let bytesTotal = 0;
  let totalSplits: number | undefined;
  const done = (r: ScatterResult) => {
    stats.records += r.records;
    stats.badRecords += r.bad;
    stats.bytesRead += r.bytesRead;
    stats.bytesAppended += r.bytesAppended;
    stats.splits++;
    p.progress({ phase: 'scatter', records: stats.records, bytesRead: stats.bytesRead, bytesTotal, bytesAppended: stats.bytesAppended, splitsDone: stats.splits, splits: totalSplits });
  };
  try {
    await (async () => {
      const exec = (split: SplitSpec) =>
        pool.run<ScatterResult>('scatter', task(split)).then(done, (e: unknown) => {
          throw wrap(e, describeSplit(split));
        });
      if ('records' in p.input) {
        // Batches from the calling thread, at most 2 per worker in flight (backpressure).
        const inFlight = new Set<Promise<void>>();
        let batch: unknown[] = [];
        let index = 0;
        const send = async () => {
          const pr = exec({ kind: 'records', index: index++, records: batch });
          batch = [];
          inFlight.add(pr);
          void pr.finally(() => inFlight.delete(pr)).catch(() => undefined);
          if (inFlight.size >= 2 * p.workers) await Promise.race(inFlight);
        };
        for await (const record of p.input.records as AsyncIterable<unknown>) {
          batch.push(record);
          if (batch.length >= BATCH_RECORDS) await send();
        }
        if (batch.length > 0 || index === 0) await send();
        totalSplits = index;
        await Promise.all(inFlight);
      } else {
        const planned = await fileSplits(p);
        bytesTotal = planned.bytesTotal;
        totalSplits = planned.splits.length;
        await Promise.all(planned.splits.map(exec));
      }
    })();
  } catch (e) {
    if (p.ownsStore) await p.store.close();
    throw e;
  }
  stats.scatterSeconds = (performance.now() - t0) / 1000;
  return stats;
}

/** Runs gather tasks over every partition on `pool`, yielding results as partitions finish. */
export async function* gatherPhase<R>(p: { store: Lmdb; partitions: number; progress: (p: Progress) => void }, pool: WorkerPool, reduce: GatherTask['reduce']): AsyncGenerator<[number, R]> {
  const results: [number, R][] = [];
  let wake: (() => void) | undefined;
  let failure: unknown;
  let finished = false;
  let done = 0;
  const work = (async () => {
    await Promise.all(
      Array.from({ length: p.partitions }, (_, partition) =>
        pool.run<R>('gather', { store: p.store.path, partition, reduce } satisfies GatherTask).then(
          (r) => {
            results.push([partition, r]);
            p.progress({ phase: 'gather', partitionsDone: ++done, partitions: p.partitions });
            wake?.();
          },
          (e: unknown) => {
            throw wrap(e, `partition ${partition}`);
          },
        ),
      ),
    );
  })().then(
    () => void (finished = true),
    (e: unknown) => void ((failure = e), (finished = true)),
  ).finally(() => wake?.());
  while (true) {
    while (results.length > 0) yield results.shift()!;
    if (failure !== undefined) throw failure;
    if (finished) break;
    await new Promise<void>((r) => (wake = r));
  }
  await work;
}

function wrap(e: unknown, where: string): Error {
  if (e instanceof BadRecordError) return e;
  const err = e instanceof Error ? e : new Error(String(e));
  if (err instanceof ShuffleError) return err;
  return new ShuffleError(`${where} failed: ${err.message}`, { cause: err });
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
    await withPool(Math.min(this.#plan.workers, this.partitions), async (pool) => {
      for await (const [p, r] of gatherPhase<R>(this.#plan, pool, { kind: 'module', ref })) out[p] = r;
    });
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
    if (this.#plan.ownsStore) await this.#plan.store.close();
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
  return new ShuffleHandle<T>(p, await withPool(p.workers, (pool) => scatterPhase(p, pool)));
}

/** Options of `groupBy`: a shuffle's plus the aggregations, by output name. */
export interface GroupByOptions<T = unknown> extends ShuffleOptions<T> {
  aggregate: Record<string, import('./reducers.js').Aggregation>;
}

/** Plans the aggregations: names, ops and fields checked, custom reducers resolved. */
export async function planAggregations(aggregate: unknown): Promise<PlannedAgg[]> {
  if (!aggregate || typeof aggregate !== 'object') throw new TypeError('aggregate: expected { name: { op, field } }');
  const ops = ['count', 'sum', 'min', 'max', 'mean', 'first', 'last', 'collect', 'custom'];
  const out: PlannedAgg[] = [];
  for (const [name, spec] of Object.entries(aggregate as Record<string, { op?: unknown; field?: unknown; reducer?: ModuleRef }>)) {
    const arg = `aggregate.${name}`;
    if (name === 'key') throw new RangeError(`${arg}: "key" is the group's key column; choose another name`);
    if (!spec || typeof spec !== 'object' || !ops.includes(spec.op as string)) throw new RangeError(`${arg}.op: expected one of ${ops.join(', ')}, got ${describe(spec?.op)}`);
    if (spec.field !== undefined && typeof spec.field !== 'string') throw new TypeError(`${arg}.field: expected a field name`);
    if (spec.op === 'custom') out.push({ name, op: 'custom', field: spec.field, ref: await resolveRef(spec.reducer, `${arg}.reducer`) });
    else if (spec.op === 'count') out.push({ name, op: 'count' });
    else if (typeof spec.field !== 'string') throw new TypeError(`${arg}.field: ${String(spec.op)} needs a field name`);
    else out.push({ name, op: spec.op as Exclude<PlannedAgg['op'], 'custom' | 'count'>, field: spec.field });
  }
  if (out.length === 0) throw new RangeError('aggregate: no aggregations given');
  return out;
}
