/**
 * What CSV text is, for both sides: where records end (a quote-aware scan, so quoted commas,
 * quotes and newlines never straddle two pieces), and which field text is a number
 * (docs/types.md). The coordinator cuts files into splits with it (csv-plan.ts), a worker
 * cuts its split into blocks and reads fields with it (csv.ts).
 */
import { createRequire } from 'node:module';

type CsvParse = typeof import('csv-parse/sync').parse;
let loaded: CsvParse | undefined;
/** csv-parse, loaded on first use: most blocks never need it, and every worker thread would pay its import at start. */
export function csvParse(): CsvParse {
  return (loaded ??= (createRequire(import.meta.url)('csv-parse/sync') as typeof import('csv-parse/sync')).parse);
}

/**
 * Every record ends in `\n` or `\r\n`, whichever each line has (a file of LF rows with CRLF rows
 * appended is read as one would expect); a lone `\r` is part of its field. csv-parse left to
 * itself takes one delimiter per call from the first it meets, so blocks of such a file were
 * read differently.
 */
export const RECORD_DELIMITER = ['\r\n', '\n'];

/** A quote-aware scan's state: whether its position is inside a quoted field. */
export interface Scan {
  inQuotes: boolean;
}

/** Advances `scan` over `buf[from, to)`: each quote toggles it (an escaped quote, "", twice). */
export function skipTo(scan: Scan, buf: Buffer, from: number, to: number): void {
  const region = buf.subarray(from, to); // bounds each search: no scan past `to`
  let n = 0;
  for (let q = region.indexOf(0x22); q >= 0; q = region.indexOf(0x22, q + 1)) n++;
  if (n % 2) scan.inQuotes = !scan.inQuotes;
}

/** The offset just past the first newline at or after `from` that ends a record (one outside quotes), `scan` advanced to it; -1 when `buf` has none (`scan` advanced to its end). */
export function recordEnd(scan: Scan, buf: Buffer, from: number): number {
  for (let i = from; ;) {
    const nl = buf.indexOf(0x0a, i);
    if (nl < 0) {
      skipTo(scan, buf, i, buf.length);
      return -1;
    }
    skipTo(scan, buf, i, nl);
    i = nl + 1;
    if (!scan.inQuotes) return i;
  }
}

/** Offsets just past record-ending newlines (outside quotes), about `every` bytes apart. */
export function recordCuts(buf: Buffer, every: number): number[] {
  const cuts: number[] = [];
  const scan = { inQuotes: false };
  for (let last = 0; last + every < buf.length;) {
    skipTo(scan, buf, last, last + every);
    const cut = recordEnd(scan, buf, last + every);
    if (cut < 0) break;
    cuts.push(cut);
    last = cut;
  }
  return cuts;
}

/**
 * How a column's fields are read (docs/types.md): `string` as they are; `number` from numeric
 * text (declared, or needed by sum/mean); `inferred` from plain number text only, the rule a
 * sample of the file passed. An empty field of a number column is null.
 */
export type ColumnType = 'string' | 'number' | 'inferred';

/** A file's columns and how each is read. */
export interface Table {
  columns: string[];
  types: ColumnType[];
}

/** Rows of each file read to infer column types. */
export const SAMPLE_ROWS = 1000;
const NUMERIC = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;
const PLAIN = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?$/;
const INTEGER = /^-?\d+$/;

/** Whether `text` is plain number text that reads as a number exactly: no leading zeros or signs, and an integer within ±(2^53 − 1). */
export function isPlainNumber(text: string): boolean {
  return PLAIN.test(text) && (!INTEGER.test(text) || Number.isSafeInteger(Number(text)));
}

/** A field of a number column as a number; null when empty; undefined when the text does not fit the column. */
export function numberOf(text: string, type: 'number' | 'inferred'): number | null | undefined {
  if (text === '') return null;
  if (type === 'inferred') return isPlainNumber(text) ? Number(text) : undefined;
  // an integer beyond 2^53 would be rounded: two different ids would become one number
  return NUMERIC.test(text) && (!INTEGER.test(text) || Number.isSafeInteger(Number(text))) ? Number(text) : undefined;
}
