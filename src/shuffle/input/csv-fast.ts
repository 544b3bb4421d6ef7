/**
 * The CSV fast path, in a worker thread: a block read straight from its bytes for a groupBy that
 * needs one string key column and numbers — no string, field array or record made per row.
 * It takes only blocks where that changes nothing: no quote anywhere, every line of the right
 * width, every typed field a plain decimal that converts exactly (at most 15 digits: the
 * quotient of two exact doubles is the correctly rounded `Number(text)`). Any other block goes
 * to the general parser whole, so its records, errors and line numbers are the general path's.
 */
import type { Table } from './csv-text.js';
import { exactDecimal } from './decimal.js';
import { FNV_OFFSET, FNV_PRIME } from '../groupby/byte-keys.js';
import { growRows, type KeyedRows } from './splits.js';

/** How a table's rows are read on the fast path: the key column, and each typed column's value slot (-1: checked, not kept). */
export interface FastShape {
  width: number;
  key: number;
  /** Per column: 0 untyped, 1 number, 2 inferred (docs/types.md: plain number text only). */
  types: Uint8Array;
  slots: Int32Array;
  /** Value columns per row. */
  values: number;
}

/**
 * The fast shape of a table for a key column and value columns, or undefined when its rows
 * need the general path (the key column typed, a value column a string).
 */
export function fastShape(table: Table, key: string, values: readonly string[]): FastShape | undefined {
  const col = (name: string) => table.columns.lastIndexOf(name); // a name twice: the last, as a record object has it
  const k = col(key);
  if (k < 0 || table.types[k] !== 'string') return undefined;
  const width = table.columns.length;
  const types = new Uint8Array(width);
  table.types.forEach((t, i) => (types[i] = t === 'string' ? 0 : t === 'number' ? 1 : 2));
  const slots = new Int32Array(width).fill(-1);
  for (const [j, name] of values.entries()) {
    const c = col(name);
    if (c < 0 || types[c] === 0 || slots[c] !== -1) return undefined; // a column twice: the general path (rare)
    slots[c] = j;
  }
  return { width, key: k, types, slots, values: values.length };
}

const COMMA = 0x2c;
const NEWLINE = 0x0a;
const RETURN = 0x0d;
const QUOTE = 0x22;

/**
 * Reads a block into `out`; false when the block needs the general path (`out` then holds
 * nothing of use). `out`'s arrays grow as needed; `out.lines` is set to the block's newlines.
 * One pass over the bytes, field by field (a search for each line's end first cost a native
 * call per row), each key hashed as it is read. The bytes that end a field are all at most a
 * comma, so one comparison passes most bytes.
 */
export function scanFast(block: Buffer, shape: FastShape, out: KeyedRows): boolean {
  if (block.indexOf(QUOTE) >= 0) return false;
  // a line ends in \n or \r\n (csv-text.ts RECORD_DELIMITER); a \r before anything else is data: the general path
  const { width, key, types, slots } = shape;
  const n = block.length;
  let rows = 0;
  let lines = 0;
  for (let i = 0; i < n;) {
    const c0 = block[i];
    if (c0 === NEWLINE || c0 === RETURN) {
      // an empty line (skipped, as csv-parse's skip_empty_lines does)
      if (c0 === RETURN && block[++i] !== NEWLINE) return false;
      i++;
      lines++;
      continue;
    }
    if (rows === out.keyFrom.length) growRows(out, shape.values);
    const base = rows * shape.values;
    let q = i;
    for (let col = 0; ; col++) {
      // q: the start of field `col`; c: the byte that ends it
      let c = 0;
      const from = q;
      if (col === key) {
        let h = FNV_OFFSET;
        for (; q < n; q++) {
          c = block[q]!;
          if (c <= COMMA && (c === COMMA || c === NEWLINE || c === RETURN)) break;
          h = Math.imul(h ^ c, FNV_PRIME);
        }
        out.keyFrom[rows] = from;
        out.keyTo[rows] = q;
        out.keyHash[rows] = h | 0;
      } else if (types[col] === 0) {
        for (; q < n; q++) {
          c = block[q]!;
          if (c <= COMMA && (c === COMMA || c === NEWLINE || c === RETURN)) break;
        }
      } else {
        for (; q < n; q++) {
          c = block[q]!;
          if (c <= COMMA && (c === COMMA || c === NEWLINE || c === RETURN)) break;
        }
        const v = plainNumber(block, from, q, types[col] === 2);
        if (v !== v) return false;
        if (slots[col]! >= 0) out.values[base + slots[col]!] = v;
      }
      if (q === n) {
        // the block's last line, with no line end
        if (col !== width - 1) return false;
        i = n;
        break;
      }
      if (c === COMMA) {
        if (col === width - 1) return false; // a field too many
        q++;
        continue;
      }
      if (col !== width - 1) return false; // a field too few
      if (c === RETURN) {
        if (block[q + 1] !== NEWLINE) return false; // a lone \r
        q++;
      }
      lines++;
      i = q + 1;
      break;
    }
    rows++;
  }
  out.count = rows;
  out.lines = lines;
  return true;
}

/**
 * `block[from, to)` as a number when it is `-?digits(.digits)?` with at most 15 digits (and,
 * `plain`, no leading zero); NaN otherwise, for the general path to decide.
 */
function plainNumber(block: Buffer, from: number, to: number, plain: boolean): number {
  let q = from;
  const negative = block[q] === 0x2d;
  if (negative) q++;
  if (q === to || to - q > 16) return NaN;
  if (plain && block[q] === 0x30 && q + 1 < to && block[q + 1] !== 0x2e) return NaN;
  let m = 0;
  let digits = 0;
  let decimals = -1;
  for (; q < to; q++) {
    const c = block[q]!;
    if (c >= 0x30 && c <= 0x39) {
      m = m * 10 + (c - 0x30);
      digits++;
      if (decimals >= 0) decimals++;
    } else if (c === 0x2e && decimals < 0 && digits > 0) decimals = 0;
    else return NaN;
  }
  return decimals === 0 ? NaN : exactDecimal(m, digits, decimals, negative);
}
