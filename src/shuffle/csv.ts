/**
 * CSV input: a header row, then records. The coordinator cuts a file into splits at record
 * ends found by a quote-aware scan (`csvSplits`), so quoted commas, quotes and newlines never
 * straddle two splits; a worker parses its split in blocks cut the same way (`recordCuts`).
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { BadRecordError } from '../errors.js';
import { BLOCK, countNewlines, readRange } from './file-bytes.js';
import type { RecordSink, SplitSpec } from './splits.js';

type CsvParse = typeof import('csv-parse/sync').parse;
let loaded: CsvParse | undefined;
/** csv-parse, loaded on first use: most blocks never need it, and every worker thread would pay its import at start. */
function csvParse(): CsvParse {
  return (loaded ??= (createRequire(import.meta.url)('csv-parse/sync') as typeof import('csv-parse/sync')).parse);
}

/**
 * Byte ranges of about `per` bytes of a CSV file, cut at record ends, after the header, each
 * with the physical line it starts on. The scan jumps with `indexOf` (a byte-by-byte loop
 * took seconds on W4's 138 MB): to the next wanted cut, counting quotes and newlines on the
 * way, then to the first newline outside quotes.
 */
export function csvSplits(file: string, per: number, first: number, blockSize = BLOCK): SplitSpec[] {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const block = Buffer.allocUnsafe(blockSize);
    const out: SplitSpec[] = [];
    let header: string[] | undefined;
    let splitStart = 0;
    let splitLine = 0;
    let line = 1; // physical line at the scan position
    const scan = { inQuotes: false };
    let target = 0; // the next cut: the first record end at or after this offset (0: the header's end)
    for (let pos = 0; pos < size; ) {
      const n = fs.readSync(fd, block, 0, Math.min(blockSize, size - pos), pos);
      const buf = block.subarray(0, n);
      for (let i = 0; i < n; ) {
        const stop = Math.min(n, Math.max(i, target - 1 - pos)); // a record ending at `target` or later
        skipTo(scan, buf, i, stop);
        line += countNewlines(buf.subarray(i, stop));
        const next = recordEnd(scan, buf, stop);
        line += countNewlines(buf.subarray(stop, next < 0 ? n : next));
        if (next < 0) break;
        i = next;
        const end = pos + i;
        if (header === undefined) header = readHeader(file, fd, end);
        else out.push({ kind: 'csv', index: first + out.length, file, start: splitStart, end, columns: header, line: splitLine });
        splitStart = end;
        splitLine = line;
        target = end + per;
      }
      pos += n;
    }
    if (header === undefined) header = size > 0 ? readHeader(file, fd, size) : [];
    if (splitStart < size && header.length > 0 && splitLine > 0) {
      out.push({ kind: 'csv', index: first + out.length, file, start: splitStart, end: size, columns: header, line: splitLine });
    }
    return out;
  } finally {
    fs.closeSync(fd);
  }
}

/** A quote-aware scan's state: whether its position is inside a quoted field. */
interface Scan {
  inQuotes: boolean;
}

/** Advances `scan` over `buf[from, to)`: each quote toggles it (an escaped quote, "", twice). */
function skipTo(scan: Scan, buf: Buffer, from: number, to: number): void {
  const region = buf.subarray(from, to); // bounds each search: no scan past `to`
  let n = 0;
  for (let q = region.indexOf(0x22); q >= 0; q = region.indexOf(0x22, q + 1)) n++;
  if (n % 2) scan.inQuotes = !scan.inQuotes;
}

/** The offset just past the first newline at or after `from` that ends a record (one outside quotes), `scan` advanced to it; -1 when `buf` has none (`scan` advanced to its end). */
function recordEnd(scan: Scan, buf: Buffer, from: number): number {
  for (let i = from; ; ) {
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

function readHeader(file: string, fd: number, end: number): string[] {
  const buf = Buffer.allocUnsafe(end);
  fs.readSync(fd, buf, 0, end, 0);
  const rows = csvParse()(buf, { to_line: 1 }) as string[][];
  if (!rows[0]?.length) throw new Error(`${file}: no CSV header row`);
  return rows[0];
}

type CsvSplit = Extract<SplitSpec, { kind: 'csv' }>;

/** CSV is parsed in blocks of about this many bytes, cut at record ends: memory stays bounded whatever the split size. */
const CSV_BLOCK = 1 << 20;

/** Reads a CSV split, block by block, calling the sink per record. */
export async function readCsv(split: CsvSplit, sink: RecordSink): Promise<{ bytes: number }> {
  const buf = await readRange(split);
  const where = { file: split.file, line: split.line }; // the line where the current block starts
  let position = 0;
  let from = 0;
  for (const to of [...recordCuts(buf, CSV_BLOCK), buf.length]) {
    const block = buf.subarray(from, to);
    for (const item of parseBlock(block, split.columns, where)) {
      if (item instanceof BadRecordError) sink.bad(item, position++);
      else sink.record(item, position++);
    }
    where.line += countNewlines(block);
    from = to;
  }
  return { bytes: buf.length };
}

/**
 * The records of one block, with a `BadRecordError` in place of each unreadable row (in input
 * order, so positions are the same on every attempt). A block of well-formed CSV whose lines
 * end in `\n`, or all in `\r\n`, is split here (`splitBlock`), with csv-parse's `cast: true`
 * rule: the same records, 1.2× as fast unquoted and 6× as fast quoted (test/shuffle.test.ts
 * compares both on random blocks). Any other block — a stray or unclosed quote, a stray `\r`,
 * a record of the wrong length — goes to csv-parse, whose errors and line numbers are then the
 * ones reported.
 */
export function parseBlock(block: Buffer, columns: string[], where: { file: string; line: number }, fast = true): unknown[] {
  const newline = fast ? newlineOf(block) : undefined;
  const split = newline ? splitBlock(block.toString('utf8'), columns, newline) : undefined;
  if (split) return split;
  const items: unknown[] = [];
  // No `info` (it halves csv-parse's speed): a record's line is worked out only for an error.
  csvParse()(block, {
    columns,
    cast: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    on_record: (record: unknown) => void items.push(record),
    // csv-parse's own "on line N" counts within the block: the file's line comes first instead.
    on_skip: (err: { message: string; lines?: number } | undefined) =>
      void (err && items.push(new BadRecordError(`${where.file} line ${where.line + (err.lines ?? 1) - 1}: ${err.message.replace(/ on line \d+$/, '')}`))),
  });
  return items;
}

/** A block's record delimiter: `\n`, or `\r\n` when every newline follows a carriage return; undefined for any other carriage return. */
function newlineOf(block: Buffer): string | undefined {
  let returns = 0;
  for (let i = block.indexOf(0x0d); i >= 0; i = block.indexOf(0x0d, i + 1), returns++) if (block[i + 1] !== 0x0a) return undefined;
  return returns === 0 ? '\n' : returns === countNewlines(block) ? '\r\n' : undefined;
}

const QUOTE = 0x22;
const COMMA = 0x2c;
/** `fieldsOf` a record whose last quoted field goes on past the end of the text given. */
const OPEN = Symbol('open quote');

/**
 * The records of a block of CSV whose lines end in `newline`, as csv-parse reads it with our
 * options (`,`, `"` quoting with `""` inside, empty lines skipped); undefined for anything
 * else. It works line by line (scanning the block's one long string from offset to offset ran
 * 100× slower at times once V8 had optimised it), field by field, a line joined with the next
 * ones while a quoted field holds newlines.
 */
export function splitBlock(text: string, columns: string[], newline = '\n'): unknown[] | undefined {
  const row = rowMaker(columns);
  const width = columns.length;
  const items: unknown[] = [];
  const lines = text.split(newline);
  for (let k = 0; k < lines.length; k++) {
    let line = lines[k]!;
    if (line === '') continue; // skip_empty_lines
    let fields = fieldsOf(line);
    while (fields === OPEN && k + 1 < lines.length) fields = fieldsOf((line += `${newline}${lines[++k]}`)); // a newline inside quotes
    if (fields === undefined || fields === OPEN || fields.length !== width) return undefined;
    items.push(row(fields, cast));
  }
  return items;
}

/** The fields of one record: undefined for a stray quote or a character after a closing quote, OPEN for an unclosed quote. */
function fieldsOf(text: string): string[] | typeof OPEN | undefined {
  const fields: string[] = [];
  for (let i = 0; ; i++) {
    // i: the start of a field
    if (text.charCodeAt(i) === QUOTE) {
      let field = '';
      let from = i + 1;
      for (;;) {
        const close = text.indexOf('"', from);
        if (close < 0) return OPEN;
        if (text.charCodeAt(close + 1) !== QUOTE) {
          field += text.slice(from, close);
          i = close + 1;
          break;
        }
        field += text.slice(from, close + 1); // "" inside quotes: one quote
        from = close + 2;
      }
      fields.push(field);
      if (i === text.length) return fields;
      if (text.charCodeAt(i) !== COMMA) return undefined; // a character after the closing quote
    } else {
      const comma = text.indexOf(',', i);
      const field = comma < 0 ? text.slice(i) : text.slice(i, comma);
      if (field.indexOf('"') >= 0) return undefined; // a quote inside an unquoted field
      fields.push(field);
      if (comma < 0) return fields;
      i = comma;
    }
  }
}

/** csv-parse's `cast: true`: a field that reads as a float becomes that number. */
function cast(field: string): unknown {
  return (field as unknown as number) - parseFloat(field) + 1 >= 0 ? parseFloat(field) : field;
}

type RowMaker = (fields: string[], cast: (f: string) => unknown) => Record<string, unknown>;
const rowMakers = new Map<string, RowMaker>();

/** A compiled `(fields, cast) => record` for a header: an object literal of one shape (computed keys: own properties whatever the name). */
function rowMaker(columns: string[]): RowMaker {
  const id = JSON.stringify(columns);
  let make = rowMakers.get(id);
  if (make === undefined) {
    make = new Function('f', 'cast', `return { ${columns.map((c, i) => `[${JSON.stringify(c)}]: cast(f[${i}])`).join(', ')} };`) as RowMaker;
    rowMakers.set(id, make);
  }
  return make;
}

/** Offsets just past record-ending newlines (outside quotes), about `every` bytes apart. */
export function recordCuts(buf: Buffer, every: number): number[] {
  const cuts: number[] = [];
  const scan = { inQuotes: false };
  for (let last = 0; last + every < buf.length; ) {
    skipTo(scan, buf, last, last + every);
    const cut = recordEnd(scan, buf, last + every);
    if (cut < 0) break;
    cuts.push(cut);
    last = cut;
  }
  return cuts;
}

/** The line where record `position` of a CSV split starts (parsed again, with line info: errors only). */
export async function csvLineOf(split: CsvSplit, position: number): Promise<number> {
  const options = { columns: split.columns, cast: true, skip_empty_lines: true, info: true, skip_records_with_error: true };
  const rows = csvParse()(await readRange(split), options) as { info: { lines: number } }[];
  const before = position === 0 ? 0 : rows[position - 1]!.info.lines;
  return split.line + before;
}
