/**
 * Reducers: groupBy's aggregations, planned from the op table (ops.ts). Every built-in is
 * mergeable, so scatter workers combine records into partial states per key before the shuffle
 * (map-side combine) and the gather phase merges them; `first`, `last` and `collect` keep input
 * order through an ordinal (split index · 2^32 + position in split). States are plain arrays
 * and numbers, so they cross threads and the store as MessagePack. groupby/groups.ts keeps them per key.
 */
import { describeField, fieldExpr, fieldReader } from '../input/fields.js';
import type { ModuleRef, ResolvedRef } from '../runtime/modules.js';
import { loadRef } from '../runtime/modules.js';
import { OPS, type OpName, type OpSpec, type OpsWithField } from './ops.js';
import { cannotStore } from '../../layers/values.js';

/** A built-in or custom aggregation of one field (count needs none). */
export type Aggregation =
  { op: OpsWithField<'none'> } | { op: OpsWithField<'required'>; field: string } | { op: 'custom'; reducer: ModuleRef; field?: string };

/** What a custom reducer module exports. */
export interface CustomReducer<S = unknown, R = unknown> {
  /** A new state. */
  init(): S;
  /** Adds a value (the field's value, or the record without a field). */
  add(state: S, value: unknown, record: unknown): S;
  /** Merges two states; without it, records are not combined before the shuffle. */
  merge?(a: S, b: S): S;
  /** The result (default: the state). */
  finish?(state: S): R;
}

/** An aggregation ready for workers: custom reducers resolved. */
export type PlannedAgg =
  | {
      name: string;
      op: Exclude<OpName, 'custom'>;
      field?: string;
      /** The type of values it checks (docs/types.md): see `checkedKind` */ kind?: 'number' | 'string';
    }
  | { name: string; op: 'custom'; field?: string; ref: ResolvedRef; /** it has `merge` */ merges: boolean };

const ORD = 2 ** 32;

/** The ordinal of a record: its split, then its position. */
export const ordinal = (split: number, position: number) => split * ORD + position;

/** The op of an aggregation. */
export const specOf = (a: PlannedAgg): OpSpec => OPS[a.op];

/** Whether every aggregation of a plan can merge states, so scatter may combine. */
export const mergeable = (plan: readonly PlannedAgg[]): boolean => plan.every((a) => a.op !== 'custom' || a.merges);

/** Whether a plan reads records' ordinals. */
export const ordered = (plan: readonly PlannedAgg[]): boolean => plan.some((a) => specOf(a).ordinal);

/** The user modules of a plan's aggregations, loaded (in a worker); undefined for built-ins. */
export const loadReducers = (plan: readonly PlannedAgg[]): Promise<(CustomReducer | undefined)[]> =>
  Promise.all(plan.map((a) => (a.op === 'custom' ? loadRef<CustomReducer>(a.ref) : undefined)));

/**
 * Sets the kind of values each aggregation checks: strings for an 'ordered' op on a string
 * field, else numbers; the declared type of a field for other checking ops (a CSV column is
 * already read as its type).
 */
export function settleKinds(plan: PlannedAgg[], types: Record<string, 'string' | 'number'>, stringFields: Set<string>, csv: boolean): void {
  for (const a of plan) {
    const { takes } = specOf(a);
    if (a.op === 'custom' || takes === undefined) continue;
    if (takes === 'ordered') a.kind = stringFields.has(a.field!) ? 'string' : 'number';
    else if (!csv && Object.hasOwn(types, a.field!)) a.kind = types[a.field!];
  }
}

/** The type of values an aggregation checks, if it checks them: numbers, or by its kind. */
function checkedKind(a: PlannedAgg): 'number' | 'string' | undefined {
  const t = specOf(a).takes;
  if (t === undefined || a.op === 'custom') return undefined;
  return t === 'numbers' ? 'number' : t === 'ordered' ? (a.kind ?? 'number') : a.kind;
}

/**
 * Code reading each field once per record into a local (every aggregated field, or only the
 * checked ones), then checking the values the checking aggregations get (docs/types.md): it
 * returns the index of the first aggregation whose value does not fit. `values[i]` names
 * aggregation i's value (`r`: the whole record).
 */
export function valueCode(plan: readonly PlannedAgg[], all: boolean): { read: string; check: string; values: string[] } {
  const locals = new Map<string, string>();
  const values = plan.map((a) => {
    if (a.field === undefined) return 'r';
    if (!all && checkedKind(a) === undefined) return '';
    if (!locals.has(a.field)) locals.set(a.field, `v${locals.size}`);
    return locals.get(a.field)!;
  });
  const read = [...locals].map(([field, v]) => `const ${v} = ${fieldExpr(field)};`).join(' ');
  const check = plan
    .flatMap((a, i) => {
      const kind = checkedKind(a);
      const v = values[i]!;
      if (kind === undefined) return [];
      const misfit = kind === 'number' ? `typeof ${v} !== "number" || ${v} - ${v} !== 0` : `typeof ${v} !== "string"`; // v - v: NaN for NaN and ±Infinity
      return [`if (${misfit}) return ${i};`];
    })
    .join(' ');
  return { read, check, values };
}

/** A compiled check of a record's values (see `valueCode`): a misfit's index or -1; undefined when none checks. */
export function valueCheck(plan: readonly PlannedAgg[]): ((record: unknown) => number) | undefined {
  const { read, check } = valueCode(plan, false);
  if (check === '') return undefined;
  return new Function('r', `${read} ${check} return -1;`) as (record: unknown) => number;
}

/** Why aggregation `a` refuses the value `record` gives it (after a check found it). */
export function misfit(a: PlannedAgg, record: unknown): string {
  const value = fieldReader(a.field!)(record);
  const why = specOf(a).keeps ? cannotStore(value) : undefined;
  if (why !== undefined)
    return `field ${JSON.stringify(a.field)}: ${a.op} keeps its values, and MessagePack cannot store this one (${why})`;
  const kind = checkedKind(a);
  const got = describeField(value);
  const { takes: t } = specOf(a);
  if (t === 'declared') return `field ${JSON.stringify(a.field)}: types declares it a ${kind}, got ${got}`;
  const hint = kind === 'number' && t === 'ordered' ? '; for strings declare the field a string (types)' : '';
  return `field ${JSON.stringify(a.field)}: ${a.op} takes ${kind === 'string' ? 'strings' : 'finite numbers'}, got ${got}${hint}`;
}
