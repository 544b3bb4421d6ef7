/**
 * A *probed frame*, in both threads: the rows a stored frame of a join's probe side makes with
 * at most one match per record, written without encoding its records again. A gather worker
 * (join/hash.ts, join/sink.ts) sends the frame's stored MessagePack bytes as they are, one count
 * per record and the index of each matched build record in the build side's table, which goes
 * once, before the first probed frame that uses it (a *table frame*); the coordinator
 * (join/index.ts) decodes the stored bytes, as it would have decoded the rows, and makes the
 * rows, each with a copy of its build record. Packing the rows' records again was most of a
 * gather task's time (J1: a second of every three).
 *
 * Counts: 1, a row with the next build record; 0, the record alone (`how` keeps its side); -1,
 * no row here (no match on an inner side, or several, or a build record that is not flat —
 * a plain object of non-object values, which a shallow copy copies whole: those rows go as
 * ordinary rows, so that no two rows share an object).
 */
import type { Side } from '../protocol.js';

/** The first item of a probed frame, and of a table frame; a frame of ordinary rows starts with a row (an object). */
export const PROBED = 0;
export const TABLE = 1;

/** A probed frame as the sink frames it: `builds` the matched build records' indexes in the last table frame. */
export type ProbedFrame = [tag: typeof PROBED, side: Side, payload: Uint8Array, counts: number[], builds: number[], keys: unknown[] | null];

/** A build side's records, for the probed frames after it. */
export type TableFrame = [tag: typeof TABLE, records: unknown[]];

/** A joined row as the coordinator hands it on. */
export interface Row {
  key: unknown;
  left: unknown;
  right: unknown;
}

/** Whether a decoded frame of a row file is a probed frame. */
export const isProbed = (frame: unknown[]): frame is ProbedFrame => frame[0] === PROBED;
/** Whether a decoded frame of a row file is a table frame. */
export const isTable = (frame: unknown[]): frame is TableFrame => frame[0] === TABLE;

/** Compiled copiers by shape (their keys), shared by every table; at most MAX_SHAPES, then spreads. */
const shapes = new Map<string, (record: object) => object>();
const MAX_SHAPES = 256;
const spread = (record: object): object => ({ ...record });

/** A copier for records of `record`'s keys: an object literal, which copies a flat record 2–3 times faster than a spread. */
function copierOf(record: object): (record: object) => object {
  const keys = Object.keys(record);
  const shape = JSON.stringify(keys);
  let copy = shapes.get(shape);
  if (copy) return copy;
  if (shapes.size >= MAX_SHAPES || keys.includes('__proto__')) return spread; // a literal's __proto__ would set the prototype
  const fields = keys.map((k) => `${JSON.stringify(k)}: r[${JSON.stringify(k)}]`).join(', ');
  copy = new Function('r', `return { ${fields} };`) as (record: object) => object;
  shapes.set(shape, copy);
  return copy;
}

/** A build side's records as the coordinator holds them (a table frame's, or a broadcast's), each copied into the rows it joins. */
export class HeldTable {
  readonly #copiers: ((record: object) => object)[] = [];
  constructor(readonly records: unknown[]) {}

  /** A copy of record `i` (flat, as the worker checked: a plain object of non-object values). */
  copy(i: number): object {
    const record = this.records[i] as object;
    return (this.#copiers[i] ??= copierOf(record))(record);
  }
}

/**
 * The rows of a probed frame: `records` its stored records decoded, `table` the build records
 * it points into, `keyOf` the probe side's key (a field read from the record) when the frame
 * holds no keys.
 */
export function probedRows(
  frame: ProbedFrame,
  records: unknown[],
  table: HeldTable,
  keyOf: ((record: unknown) => unknown) | undefined,
): Row[] {
  const [, side, , counts, builds, keys] = frame;
  const rows: Row[] = [];
  let b = 0;
  for (let r = 0; r < counts.length; r++) {
    const count = counts[r]!;
    if (count < 0) continue;
    const record = records[r];
    const key = (keys ? keys[r] : keyOf!(record)) ?? null;
    const other = count === 0 ? null : table.copy(builds[b++]!);
    rows.push(side === 0 ? { key, left: record, right: other } : { key, left: other, right: record });
  }
  return rows;
}
