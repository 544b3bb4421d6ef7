/**
 * A *probed frame*, in both threads: the rows a stored frame of a join's probe side makes with
 * at most one match per record, written without encoding its records again. A gather worker
 * (join/hash.ts, join/sink.ts) sends the frame's stored MessagePack bytes as they are, one count
 * per record and the matched build records; the coordinator (join/index.ts) decodes the stored
 * bytes, as it would have decoded the rows, and makes the rows. Packing the probe records again
 * was most of a gather task's time (J1: a second of every three).
 *
 * Counts: 1, a row with the next build record; 0, the record alone (`how` keeps its side); -1,
 * no row here (no match on an inner side, or several: those rows go as ordinary rows, so that
 * no two rows share a record object).
 */
import type { Side } from '../protocol.js';

/** The first item of a probed frame; a frame of ordinary rows starts with a row (an object). */
export const PROBED = 0;

/** A probed frame as the sink frames it. */
export type ProbedFrame = [
  tag: typeof PROBED,
  side: Side,
  payload: Uint8Array,
  counts: number[],
  builds: unknown[],
  keys: unknown[] | null,
];

/** A joined row as the coordinator hands it on. */
export interface Row {
  key: unknown;
  left: unknown;
  right: unknown;
}

/** Whether a decoded frame of a row file is a probed frame. */
export const isProbed = (frame: unknown[]): frame is ProbedFrame => frame[0] === PROBED;

/**
 * The rows of a probed frame: `records` its stored records decoded, `keyOf` the probe side's
 * key (a field read from the record) when the frame holds no keys.
 */
export function probedRows(frame: ProbedFrame, records: unknown[], keyOf: ((record: unknown) => unknown) | undefined): Row[] {
  const [, side, , counts, builds, keys] = frame;
  const rows: Row[] = [];
  let b = 0;
  for (let r = 0; r < counts.length; r++) {
    const count = counts[r]!;
    if (count < 0) continue;
    const record = records[r];
    const key = (keys ? keys[r] : keyOf!(record)) ?? null;
    const other = count === 0 ? null : builds[b++];
    rows.push(side === 0 ? { key, left: record, right: other } : { key, left: other, right: record });
  }
  return rows;
}
