/** `groupBy`: a shuffle whose gather phase reduces each partition by key. */
import { openEngine } from '../engine.js';
import type { ShuffleStats } from '../scatter/phase.js';
import { describe } from '../../errors.js';
import { memberKinds, resolveRef, type ModuleRef, type ResolvedRef } from '../runtime/modules.js';
import type { GroupByOptions } from '../options.js';
import { checkNames } from '../checks.js';
import { mergeable, type PlannedAgg } from './aggregations.js';
import { OPS, type OpName, type OpSpec, type OpsWithField } from './ops.js';
import { keysOf, type PackedColumns } from '../protocol.js';
import { rowMaker, type GroupLines, type GroupRow } from './rows.js';

export type { GroupRow } from './rows.js';

/** The groups, keyed by group key, with the shuffle's counts. */
export class Groups extends Map<string | number, GroupRow> {
  /** Counts of the scatter phase, and the gather phase's retries (`gatherRetried`). */
  stats?: ShuffleStats;
}

/**
 * Groups the input by key, as an async iterable of `[key, row]` (partition by partition as
 * they finish). When every aggregation can merge partial results (all built-ins do), scatter
 * workers combine their records per key first, so only partial states cross the shuffle.
 * `onStats` is called once, when the scatter phase ends, with the job's counts; the same object
 * then gets the gather phase's retries (`gatherRetried`) before the iteration ends.
 */
export function iterateGroups<T = unknown>(
  options: GroupByOptions<T>,
  onStats?: (s: ShuffleStats) => void,
): AsyncIterableIterator<[string | number, GroupRow]> {
  return flattened(partitionRows(options, onStats));
}

/**
 * The items of `batches`, one by one, as an iterator that resolves each from the batch at hand:
 * a third of the time of an async generator's `yield*` per item, which on millions of groups
 * was a core's work. `return` and `throw` reach `batches` (its cleanup runs on an early break).
 */
export function flattened<T>(batches: AsyncGenerator<T[]>): AsyncIterableIterator<T> {
  let batch: T[] = [];
  let i = 0;
  const done = { value: undefined, done: true } as const;
  const it: AsyncIterableIterator<T> = {
    [Symbol.asyncIterator]: () => it,
    next: async () => {
      while (i === batch.length) {
        const r = await batches.next();
        if (r.done) return done;
        batch = r.value;
        i = 0;
      }
      return { value: batch[i++]!, done: false };
    },
    return: async () => (await batches.return(undefined), done),
    throw: async (e: unknown) => (await batches.throw(e), done),
  };
  return it;
}

/** Groups the input by key into a `Map` of rows (see `iterateGroups`). */
export async function groupBy<T = unknown>(options: GroupByOptions<T>): Promise<Groups> {
  const groups = new Groups();
  for await (const rows of partitionRows(options, (s) => (groups.stats = s))) for (const [key, row] of rows) groups.set(key, row);
  return groups;
}

/** The rows of each partition as it is gathered. */
async function* partitionRows(options: GroupByOptions, onStats?: (s: ShuffleStats) => void): AsyncGenerator<[string | number, GroupRow][]> {
  const aggs = await planAggregations(options?.aggregate);
  const toRow = rowMaker(aggs.map((a) => a.name));
  for await (const packed of gathered<PackedColumns>(options, aggs, onStats, false)) {
    const { columns } = packed;
    yield keysOf(packed).map((key, i) => [key, toRow(key, columns, i)]);
  }
}

/**
 * The groups as NDJSON text, a partition at a time, one `JSON.stringify(row)` a line as
 * `iterateGroups` rows would be written: made by the gather threads (`partd groupby`).
 */
export async function* groupLines(options: GroupByOptions, onStats?: (s: ShuffleStats) => void): AsyncGenerator<GroupLines> {
  yield* gathered<GroupLines>(options, await planAggregations(options?.aggregate), onStats, true);
}

/** Each partition's gather result for the planned `aggs`: packed columns, or `lines`. */
async function* gathered<R>(
  options: GroupByOptions,
  aggs: PlannedAgg[],
  onStats: ((s: ShuffleStats) => void) | undefined,
  lines: boolean,
): AsyncGenerator<R> {
  const combine = mergeable(aggs);
  const engine = await openEngine(options as GroupByOptions, { plan: aggs, combine }); // here or on a cluster
  try {
    const stats = await engine.scatter({ group: { plan: aggs, combine } }); // not inside `onStats?.(…)`: that would skip it
    onStats?.(stats);
    for await (const [, result] of engine.gather<R>({ kind: 'groupBy', plan: aggs, combined: combine, ...(lines && { lines }) }, stats))
      yield result;
  } finally {
    await engine.end();
  }
}

/** Plans the aggregations: names, ops and fields checked, custom reducers resolved. */
export async function planAggregations(aggregate: unknown): Promise<PlannedAgg[]> {
  if (!aggregate || typeof aggregate !== 'object') throw new TypeError('aggregate: expected { name: { op, field } }');
  const out: PlannedAgg[] = [];
  for (const [name, spec] of Object.entries(aggregate as Record<string, { op?: unknown; field?: unknown; reducer?: ModuleRef }>)) {
    const arg = `aggregate.${name}`;
    if (name === 'key') throw new RangeError(`${arg}: "key" is the group's key column; choose another name`);
    if (!spec || typeof spec !== 'object' || !Object.hasOwn(OPS, spec.op as string))
      throw new RangeError(`${arg}.op: expected one of ${Object.keys(OPS).join(', ')}, got ${describe(spec?.op)}`);
    const op = OPS[spec.op as OpName] as OpSpec;
    checkNames(spec, ['op', ...(op.module ? ['reducer'] : []), ...(op.field === 'none' ? [] : ['field'])], arg);
    if (spec.field !== undefined && (typeof spec.field !== 'string' || spec.field === ''))
      throw new TypeError(`${arg}.field: expected a field name, got ${describe(spec.field)}`);
    if (spec.op === 'custom') out.push({ name, op: 'custom', field: spec.field, ...(await customReducer(spec.reducer, `${arg}.reducer`)) });
    else if (op.field === 'none') out.push({ name, op: spec.op as OpsWithField<'none'> });
    else if (typeof spec.field !== 'string') throw new TypeError(`${arg}.field: ${String(spec.op)} needs a field name`);
    else out.push({ name, op: spec.op as Exclude<OpName, 'custom'>, field: spec.field });
  }
  if (out.length === 0) throw new RangeError('aggregate: no aggregations given');
  return out;
}

/** A custom reducer's module and export, checked before any work: `init` and `add` are functions (without loading it in this thread). */
async function customReducer(reducer: unknown, arg: string): Promise<{ ref: ResolvedRef; merges: boolean }> {
  const ref = await resolveRef(reducer, arg);
  const kinds = await memberKinds(ref);
  const missing = ['init', 'add'].filter((m) => kinds[m] !== 'function');
  if (missing.length > 0)
    throw new TypeError(
      `${arg}: export ${JSON.stringify(ref.export)} of ${ref.url} is not a reducer: ${missing.join(' and ')} must be functions ({ init, add, merge?, finish? })`,
    );
  return { ref, merges: kinds.merge === 'function' };
}
