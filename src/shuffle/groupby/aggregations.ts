/**
 * Reducers: groupBy's aggregations. Every built-in is mergeable, so scatter workers combine
 * records into partial states per key before the shuffle (map-side combine) and the gather
 * phase merges them; `first`, `last` and `collect` keep input order through an ordinal
 * (split index · 2^32 + position in split). States are plain arrays and numbers, so they
 * cross threads and the store as MessagePack. groupby/groups.ts keeps them per key.
 */
import { describeField, fieldExpr, fieldReader } from '../input/fields.js';
import type { ResolvedRef } from '../runtime/modules.js';
import { loadRef } from '../runtime/modules.js';

/** A built-in or custom aggregation of one field (count needs none). */
export type Aggregation =
  | { op: 'count' }
  | { op: 'sum' | 'min' | 'max' | 'mean' | 'first' | 'last' | 'collect'; field: string }
  | { op: 'custom'; reducer: import('../runtime/modules.js').ModuleRef; field?: string };

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
      op: Exclude<Aggregation['op'], 'custom'>;
      field?: string;
      /** min/max: the values they take (docs/types.md); sum and mean take numbers */ kind?: 'number' | 'string';
    }
  | { name: string; op: 'custom'; field?: string; ref: ResolvedRef; /** it has `merge` */ merges: boolean };

type State = unknown;
const ORD = 2 ** 32;

/** Aggregation functions bound to a plan (built in a worker or in the caller). */
export interface Aggregator {
  init(record: unknown, ord: number): State[];
  add(states: State[], record: unknown, ord: number): void;
  /** The states of group `i` of a block of state columns (scatter's map-side combine). */
  take(columns: State[][], i: number): State[];
  /** Merges group `i` of a block of state columns into `into`. */
  merge(into: State[], columns: State[][], i: number): void;
  /** The final values of groups' states, as one column per aggregation (plan order). */
  finish(states: Iterable<State[]>): unknown[][];
}

/** The ordinal of a record: its split, then its position. */
export const ordinal = (split: number, position: number) => split * ORD + position;

/** Whether every aggregation of a plan can merge states, so scatter may combine. */
export const mergeable = (plan: readonly PlannedAgg[]): boolean => plan.every((a) => a.op !== 'custom' || a.merges);

/** Builds the aggregator of a plan, loading custom reducer modules (in a worker). */
export async function aggregator(plan: readonly PlannedAgg[]): Promise<Aggregator> {
  const customs = await Promise.all(plan.map((a) => (a.op === 'custom' ? loadRef<CustomReducer>(a.ref) : undefined)));
  const readers = plan.map((a) => (a.field === undefined ? (r: unknown) => r : fieldReader(a.field)));
  const value = (i: number, r: unknown) => readers[i]!(r);
  const initOne = (a: PlannedAgg, i: number): State => {
    switch (a.op) {
      case 'count':
      case 'sum':
        return 0;
      case 'mean':
        return [0, 0];
      case 'min':
      case 'max':
      case 'first':
      case 'last':
        return null;
      case 'collect':
        return [];
      case 'custom':
        return customs[i]!.init();
    }
  };
  const addOne = (a: PlannedAgg, i: number, s: State, r: unknown, ord: number): State => {
    const v = value(i, r) ?? (a.op === 'custom' ? undefined : null);
    switch (a.op) {
      case 'count':
        return (s as number) + 1;
      case 'sum':
        return (s as number) + (v as number);
      case 'mean': {
        const m = s as [number, number];
        m[0] += v as number;
        m[1]++;
        return m;
      }
      case 'min':
        return s === null || (v as number) < (s as number) ? v : s;
      case 'max':
        return s === null || (v as number) > (s as number) ? v : s;
      case 'first':
        return s === null || ord < (s as [number, unknown])[0] ? [ord, v] : s;
      case 'last':
        return s === null || ord > (s as [number, unknown])[0] ? [ord, v] : s;
      case 'collect': {
        // segments of [ord of first value, values...] in input order; a new segment when order breaks
        const segs = s as [number, unknown[]][];
        const last = segs[segs.length - 1];
        if (last && ord > last[0]) last[1].push(v);
        else segs.push([ord, [v]]);
        return segs;
      }
      case 'custom':
        return customs[i]!.add(s, v, r);
    }
  };
  const mergeOne = (a: PlannedAgg, i: number, x: State, y: State): State => {
    if (y === null && a.op !== 'custom') return x;
    if (x === null && a.op !== 'custom') return y;
    switch (a.op) {
      case 'count':
      case 'sum':
        return (x as number) + (y as number);
      case 'mean':
        return [(x as number[])[0]! + (y as number[])[0]!, (x as number[])[1]! + (y as number[])[1]!];
      case 'min':
        return (y as number) < (x as number) ? y : x;
      case 'max':
        return (y as number) > (x as number) ? y : x;
      case 'first':
        return (y as [number])[0] < (x as [number])[0] ? y : x;
      case 'last':
        return (y as [number])[0] > (x as [number])[0] ? y : x;
      case 'collect':
        return [...(x as unknown[]), ...(y as unknown[])];
      case 'custom':
        return customs[i]!.merge!(x, y);
    }
  };
  const finishOne = (a: PlannedAgg, i: number, s: State): unknown => {
    switch (a.op) {
      case 'mean': {
        const [sum, n] = s as [number, number];
        return n === 0 ? null : sum / n;
      }
      case 'first':
      case 'last':
        return s === null ? null : (s as [number, unknown])[1];
      case 'collect':
        return (s as [number, unknown[]][]).sort((p, q) => p[0] - q[0]).flatMap(([, vs]) => vs);
      case 'custom':
        return customs[i]!.finish ? customs[i]!.finish!(s) : s;
      default:
        return s;
    }
  };
  return {
    init: (record, ord) => plan.map((a, i) => addOne(a, i, initOne(a, i), record, ord)),
    add: (states, record, ord) => {
      for (let i = 0; i < plan.length; i++) states[i] = addOne(plan[i]!, i, states[i], record, ord);
    },
    take: (columns, k) => columns.map((c) => c[k]),
    merge: (into, columns, k) => {
      for (let i = 0; i < plan.length; i++) into[i] = mergeOne(plan[i]!, i, into[i], columns[i]![k]);
    },
    finish(groups) {
      const columns: unknown[][] = plan.map(() => []);
      for (const states of groups) for (let i = 0; i < plan.length; i++) columns[i]!.push(finishOne(plan[i]!, i, states[i]));
      return columns;
    },
  };
}

/** What a checked aggregation takes: sum and mean numbers, min and max by their kind. */
const takes = (a: PlannedAgg): 'number' | 'string' | undefined =>
  a.op === 'sum' || a.op === 'mean'
    ? 'number'
    : a.op === 'min' || a.op === 'max'
      ? (a.kind ?? 'number')
      : a.op === 'custom'
        ? undefined
        : a.kind;

/**
 * A compiled check of the values a record gives the plan's numeric aggregations (docs/types.md):
 * the index of the first aggregation whose value does not fit, or -1; undefined when none checks.
 */
export function valueCheck(plan: readonly PlannedAgg[]): ((record: unknown) => number) | undefined {
  const lines = plan.flatMap((a, i) => {
    const kind = takes(a);
    if (kind === undefined) return [];
    const misfit = kind === 'number' ? 'typeof v !== "number" || v - v !== 0' : 'typeof v !== "string"'; // v - v: NaN for NaN and ±Infinity
    return [`v = ${fieldExpr(a.field!)}; if (${misfit}) return ${i};`];
  });
  if (lines.length === 0) return undefined;
  return new Function('r', `let v; ${lines.join(' ')} return -1;`) as (record: unknown) => number;
}

/** Why aggregation `a` refuses the value `record` gives it (after `valueCheck` found it). */
export function misfit(a: PlannedAgg, record: unknown): string {
  const kind = takes(a);
  const v = fieldReader(a.field!)(record);
  const got = describeField(v);
  if (a.op !== 'sum' && a.op !== 'mean' && a.op !== 'min' && a.op !== 'max')
    return `field ${JSON.stringify(a.field)}: types declares it a ${kind}, got ${got}`;
  const hint = kind === 'string' || a.op === 'sum' || a.op === 'mean' ? '' : '; for strings declare the field a string (types)';
  return `field ${JSON.stringify(a.field)}: ${a.op} takes ${kind === 'string' ? 'strings' : 'finite numbers'}, got ${got}${hint}`;
}
