/**
 * The NDJSON fast path, in a worker thread: a line read straight from its bytes for a groupBy
 * that needs one string key field and number fields — no string or object made per line. It
 * validates the whole line as JSON and takes it only when that changes nothing: the line is one
 * object, the key's value a string without escapes, each value field a number of at most 15
 * digits without an exponent (so it converts exactly), no needed field missing or given twice,
 * no field name with an escape. Any other line goes to `JSON.parse`, whose record or error is
 * then the one reported.
 */
import { FNV_OFFSET, FNV_PRIME } from '../groupby/byte-keys.js';
import { exactDecimal } from './decimal.js';
import type { KeyedRows } from './splits.js';

/** The names of the fields a line is read for: the key, then the values (in `KeyedRows` order). */
export interface JsonShape {
  names: Uint8Array[];
}

/** The shape for a key field and value fields; undefined when a name is a path or needs escaping in JSON. */
export function jsonShape(key: string, values: readonly string[]): JsonShape | undefined {
  const names = [key, ...values];
  if (names.some((n) => n.includes('.') || JSON.stringify(n) !== `"${n}"`)) return undefined;
  return { names: names.map((n) => Buffer.from(n)) };
}

const MAX_DEPTH = 64;

/**
 * Reads the line at `from` (it ends at the first newline, or at `to`) into row `rows.count`
 * (the caller grows `rows` and counts the row); the offset where it ends (its newline, or
 * `to`), or -1 when it needs `JSON.parse`. It finds the line's end as it reads it: a search
 * for each newline first cost a native call per line.
 */
export function scanLine(buf: Uint8Array, from: number, to: number, shape: JsonShape, rows: KeyedRows): number {
  const s = scanner.over(buf, to);
  const width = shape.names.length - 1;
  let seen = 0;
  let i = s.ws(from);
  if (buf[i] !== 0x7b) return -1; // {
  i = s.ws(i + 1);
  if (buf[i] === 0x7d) return -1; // {}: the key is missing
  for (;;) {
    if (buf[i] !== 0x22) return -1;
    const nameFrom = i + 1;
    i = s.string(nameFrom, false);
    if (i < 0) return -1;
    const field = matchName(buf, nameFrom, i - 1, shape.names);
    i = s.ws(i);
    if (buf[i] !== 0x3a) return -1; // :
    i = s.ws(i + 1);
    if (field >= 0) {
      if (seen & (1 << field)) return -1; // given twice: JSON.parse keeps the last
      seen |= 1 << field;
      if (field === 0) {
        if (buf[i] !== 0x22) return -1;
        // the key's string, hashed as it is read (no escapes: its bytes are the key's)
        let h = FNV_OFFSET;
        let q = i + 1;
        for (; q < to; q++) {
          const c = buf[q]!;
          if (c === 0x22) break;
          if (c < 0x20 || c === 0x5c) return -1;
          h = Math.imul(h ^ c, FNV_PRIME);
        }
        if (q === to) return -1;
        rows.keyFrom[rows.count] = i + 1;
        rows.keyTo[rows.count] = q;
        rows.keyHash[rows.count] = h | 0;
        i = q + 1;
      } else {
        const end = s.number(i);
        if (end < 0 || s.value !== s.value) return -1;
        rows.values[rows.count * width + field - 1] = s.value;
        i = end;
      }
    } else {
      i = s.skip(i, 0);
      if (i < 0) return -1;
    }
    i = s.ws(i);
    if (buf[i] === 0x2c) i = s.ws(i + 1);
    else if (buf[i] === 0x7d) break;
    else return -1;
  }
  if (seen !== 2 ** shape.names.length - 1) return -1;
  i = s.ws(i + 1);
  return i === to || buf[i] === 0x0a ? i : -1;
}

/** Which of `names` the bytes `buf[from, to)` are, or -1. */
function matchName(buf: Uint8Array, from: number, to: number, names: Uint8Array[]): number {
  for (let j = 0; j < names.length; j++) {
    const name = names[j]!;
    if (name.length !== to - from) continue;
    let k = 0;
    while (k < name.length && name[k] === buf[from + k]) k++;
    if (k === name.length) return j;
  }
  return -1;
}

/**
 * A JSON validator over `buf[…, to)`: each method returns the index past what it read, or -1
 * for anything invalid. A newline is not whitespace to it: a line ends there.
 */
class Scanner {
  /** The number `number` read (NaN when it would not convert exactly on the fast path). */
  value = 0;
  buf: Uint8Array = new Uint8Array(0);
  to = 0;

  /** This scanner, over `buf[…, to)` (one for every line: none made per line). */
  over(buf: Uint8Array, to: number): this {
    this.buf = buf;
    this.to = to;
    return this;
  }

  ws(i: number): number {
    const { buf, to } = this;
    while (i < to) {
      const c = buf[i]!;
      if (c !== 0x20 && c !== 0x09 && c !== 0x0d) break;
      i++;
    }
    return i;
  }

  /** A string's rest from just past its opening quote; `escapes`: whether `\` escapes are taken (else -1). */
  string(i: number, escapes = true): number {
    const { buf, to } = this;
    for (; i < to; i++) {
      const c = buf[i]!;
      if (c === 0x22) return i + 1;
      if (c < 0x20) return -1;
      if (c !== 0x5c) continue;
      if (!escapes) return -1;
      const e = buf[++i];
      if (e === 0x75) {
        for (let k = 1; k <= 4; k++) if (!isHex(buf[i + k])) return -1;
        i += 4;
      } else if (e !== 0x22 && e !== 0x5c && e !== 0x2f && e !== 0x62 && e !== 0x66 && e !== 0x6e && e !== 0x72 && e !== 0x74) return -1;
    }
    return -1;
  }

  /** A JSON number; `value` is its value when it has at most 15 digits and no exponent, else NaN. */
  number(i: number): number {
    const { buf, to } = this;
    const negative = buf[i] === 0x2d;
    if (negative) i++;
    if (i >= to || !isDigit(buf[i])) return -1;
    let m = 0;
    let digits = 0;
    let decimals = 0;
    if (buf[i] === 0x30) (i++, (digits = 1));
    else for (; i < to && isDigit(buf[i]); i++, digits++) m = m * 10 + (buf[i]! - 0x30);
    if (buf[i] === 0x2e) {
      if (!isDigit(buf[++i])) return -1;
      for (; i < to && isDigit(buf[i]); i++, digits++, decimals++) m = m * 10 + (buf[i]! - 0x30);
    }
    let exponent = false;
    if (buf[i] === 0x65 || buf[i] === 0x45) {
      exponent = true;
      if (buf[i + 1] === 0x2b || buf[i + 1] === 0x2d) i++;
      if (!isDigit(buf[++i])) return -1;
      while (i < to && isDigit(buf[i])) i++;
    }
    this.value = exponent ? NaN : exactDecimal(m, digits, decimals, negative);
    return i;
  }

  /** Any JSON value. */
  skip(i: number, depth: number): number {
    const { buf } = this;
    const c = buf[i];
    if (c === 0x22) return this.string(i + 1);
    if (c === 0x2d || isDigit(c)) return this.number(i);
    if (c === 0x74) return this.literal(i, 'true');
    if (c === 0x66) return this.literal(i, 'false');
    if (c === 0x6e) return this.literal(i, 'null');
    if ((c !== 0x7b && c !== 0x5b) || depth === MAX_DEPTH) return -1;
    const close = c === 0x7b ? 0x7d : 0x5d;
    i = this.ws(i + 1);
    if (buf[i] === close) return i + 1;
    for (;;) {
      if (c === 0x7b) {
        if (buf[i] !== 0x22) return -1;
        i = this.string(i + 1);
        if (i < 0) return -1;
        i = this.ws(i);
        if (buf[i] !== 0x3a) return -1;
        i = this.ws(i + 1);
      }
      i = this.skip(i, depth + 1);
      if (i < 0) return -1;
      i = this.ws(i);
      if (buf[i] === close) return i + 1;
      if (buf[i] !== 0x2c) return -1;
      i = this.ws(i + 1);
    }
  }

  literal(i: number, word: string): number {
    for (let k = 0; k < word.length; k++) if (this.buf[i + k] !== word.charCodeAt(k) || i + k >= this.to) return -1;
    return i + word.length;
  }
}

const scanner = new Scanner();
const isDigit = (c: number | undefined) => c !== undefined && c >= 0x30 && c <= 0x39;
const isHex = (c: number | undefined) => c !== undefined && ((c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66));
