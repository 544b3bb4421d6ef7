/**
 * A sort block: what a scatter worker stores for a few hundred records of one partition, laid
 * out so the gather worker sorts them without decoding a record. It holds the records' ordinals
 * and keys as columns and the records as one MessagePack array, which the gather hands on to
 * the calling thread as it is, with the sorted order beside it (sort/partition.ts).
 *
 * Layout (little-endian): form (u8: 0 numeric, 1 general), width (u8), a padding byte, n (u32),
 * key bytes (u32); then n ordinals (f64); then the keys — `width` columns of n f64 when every
 * key is a number or a tuple of `width` numbers, else the keys as one MessagePack array — and
 * last the records' MessagePack. With the frame's 5 bytes before it the header ends at byte 16,
 * so the columns of a frame written here are 8-aligned.
 */
import { CorruptFrameError } from '../../errors.js';
import { FRAME_HEADER, frameHeader } from '../../layers/frames.js';
import { framer } from '../scatter/outbox.js';
import { numericWidth, type SortKey } from './order.js';

const HEADER = 16 - FRAME_HEADER;
const NUMERIC = 0;
const GENERAL = 1;

/** A block as the gather reads it: its records still encoded. */
export interface Block {
  n: number;
  ords: Float64Array;
  /** The keys as numeric columns (a number is the 1-tuple of itself), or as they are. */
  keys: { columns: Float64Array[] } | { general: SortKey[] };
  /** The records' MessagePack: an array of n records (`framer.decode`). */
  records: Uint8Array;
}

/** Widths the header's byte holds; a wider numeric tuple goes in the general form. */
const MAX_WIDTH = 255;

/** The frame (as the store holds it) of a block of records with their keys and ordinals. */
export function blockFrame(records: readonly unknown[], ords: readonly number[], keys: readonly unknown[]): Uint8Array {
  const n = records.length;
  const numeric = numericWidth(keys as SortKey[]);
  const width = numeric <= MAX_WIDTH ? numeric : 0;
  const general = width === 0 ? framer.encode(keys) : undefined;
  const keyBytes = general ? general.length : 8 * n * width;
  const packed = framer.encode(records);
  const length = HEADER + 8 * n + keyBytes + packed.length;
  const out = new Uint8Array(FRAME_HEADER + length); // its own buffer, so the columns are 8-aligned
  frameHeader(out, length);
  const view = new DataView(out.buffer, FRAME_HEADER);
  out[FRAME_HEADER] = general ? GENERAL : NUMERIC;
  out[FRAME_HEADER + 1] = width;
  view.setUint32(3, n, true);
  view.setUint32(7, keyBytes, true);
  new Float64Array(out.buffer, FRAME_HEADER + HEADER, n).set(ords);
  const at = FRAME_HEADER + HEADER + 8 * n;
  if (general) out.set(general, at);
  else
    for (let c = 0; c < width; c++) {
      const column = new Float64Array(out.buffer, at + 8 * n * c, n);
      for (let i = 0; i < n; i++) {
        const k = keys[i];
        column[i] = typeof k === 'number' ? k : (k as number[])[c]!;
      }
    }
  out.set(packed, at + keyBytes);
  return out;
}

/** `n` doubles at `offset` of `payload`, copied to aligned memory (a store's payload may start anywhere). */
function doubles(payload: Uint8Array, offset: number, n: number): Float64Array {
  const out = new Float64Array(n);
  new Uint8Array(out.buffer).set(payload.subarray(offset, offset + 8 * n));
  return out;
}

/** Reads a block's payload (a frame's); `where` names it in errors. */
export function readBlock(payload: Uint8Array, where: string): Block {
  const bad = (why: string) => new CorruptFrameError(`${where}: not a sort block (${why})`);
  if (payload.length < HEADER) throw bad(`${payload.length} bytes`);
  const view = new DataView(payload.buffer, payload.byteOffset, payload.length);
  const form = payload[0]!;
  const width = payload[1]!;
  const n = view.getUint32(3, true);
  const keyBytes = view.getUint32(7, true);
  const at = HEADER + 8 * n;
  if (form > GENERAL || (form === NUMERIC && (width === 0 || keyBytes !== 8 * n * width)) || at + keyBytes > payload.length)
    throw bad(`form ${form}, width ${width}, ${n} records, ${keyBytes} key bytes in ${payload.length}`);
  const ords = doubles(payload, HEADER, n);
  const records = payload.subarray(at + keyBytes);
  if (form === NUMERIC) {
    const columns = Array.from({ length: width }, (_, c) => doubles(payload, at + 8 * n * c, n));
    return { n, ords, keys: { columns }, records };
  }
  const general = framer.decode(payload.subarray(at, at + keyBytes)) as SortKey[];
  if (general.length !== n) throw bad(`${general.length} keys for ${n} records`);
  return { n, ords, keys: { general }, records };
}

/** The records of blocks (their `records` bytes), decoded, in block order: what a sorted order indexes into. */
export function decodeRecords(chunks: readonly Uint8Array[]): unknown[] {
  const out: unknown[] = [];
  for (const chunk of chunks) for (const r of framer.decode(chunk)) out.push(r);
  return out;
}

/** A block's keys one by one, as sort keys (a numeric block's 1-tuples as numbers). */
export function keysOf(block: Block): SortKey[] {
  if ('general' in block.keys) return block.keys.general;
  const { columns } = block.keys;
  if (columns.length === 1) return Array.from(columns[0]!);
  return Array.from({ length: block.n }, (_, i) => columns.map((c) => c[i]!));
}
