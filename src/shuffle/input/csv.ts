/**
 * CSV input, in a worker thread: a split (a header row's columns, then records) parsed in
 * blocks cut at record ends, each field read by its column's type (docs/types.md).
 */
import { BadRecordError } from '../../errors.js';
import { countNewlines, lineOf, readRange, withBuffer } from './file-bytes.js';
import { fastShape, scanFast } from './csv-fast.js';
import { csvParse, numberOf, RECORD_DELIMITER, recordCuts, SAMPLE_ROWS, type Table } from './csv-text.js';
import { keyedRows, type RecordSink, type SplitSpec } from './splits.js';

type CsvSplit = Extract<SplitSpec, { kind: 'csv' }>;

/** CSV is parsed in blocks of about this many bytes, cut at record ends: memory stays bounded whatever the split size. */
const CSV_BLOCK = 1 << 20;

/** Reads a CSV split, block by block, calling the sink per record. */
export async function readCsv(split: CsvSplit, sink: RecordSink): Promise<{ bytes: number }> {
  return withBuffer(split.end - split.start, async (space) => readBlocks(split, await readRange(split, space), sink));
}

/** A CSV split's bytes `buf` read block by block into the sink. */
async function readBlocks(split: CsvSplit, buf: Buffer, sink: RecordSink): Promise<{ bytes: number }> {
  let line: number | undefined; // the line where the split starts: counted only for a message
  let lines = 0; // newlines before the current block
  const table = { columns: split.columns, types: split.types };
  const keyed = sink.keyed;
  const fast = keyed && fastShape(table, keyed.key, keyed.values);
  const rows = keyedRows();
  let position = 0;
  let from = 0;
  for (const to of [...recordCuts(buf, CSV_BLOCK), buf.length]) {
    const block = buf.subarray(from, to);
    if (fast && scanFast(block, fast, rows)) {
      keyed.add(position, block, rows);
      position += rows.count;
      lines += rows.lines;
    } else {
      // read first as if the split started on line 1; again with its line if a record is bad
      let items = parseBlock(block, table, { file: split.file, line: (line ?? 1) + lines });
      if (line === undefined && items.some((item) => item instanceof BadRecordError)) {
        line = await lineOf(split.file, split.start);
        items = parseBlock(block, table, { file: split.file, line: line + lines });
      }
      for (const item of items) {
        if (item instanceof BadRecordError) sink.bad(item, position++);
        else sink.record(item, position++);
      }
      lines += countNewlines(block);
    }
    from = to;
  }
  return { bytes: buf.length };
}

/**
 * The records of one block, with a `BadRecordError` in place of each unreadable row (in input
 * order, so positions are the same on every attempt). A block of well-formed CSV is split
 * here (`splitBlock`), 1.2× as fast as csv-parse unquoted and 6× quoted (test/shuffle.test.ts
 * compares both on random blocks). Any other block — a stray or unclosed quote, a row of the
 * wrong length — goes to csv-parse, whose errors are then the ones reported. Either way,
 * fields become values by their column's type (`rowMaker`).
 */
export function parseBlock(block: Buffer, table: Table, where: { file: string; line: number }, fast = true): unknown[] {
  const split = fast ? splitBlock(block.toString('utf8'), table, where) : undefined;
  if (split) return split;
  const row = rowMaker(table);
  const width = table.columns.length;
  const items: unknown[] = [];
  const at = (lines: number) => `${where.file} line ${where.line + lines - 1}`;
  const lineOf = lineCounter(block);
  let searched = 0;
  /** Where a record's raw text starts in the block, past the empty lines it begins with (records come in order). */
  let afterBad = false;
  const findRecord = (raw: string): number => {
    afterBad = false;
    const bytes = Buffer.from(raw.replace(/^[\r\n]+/, ''));
    const at = block.indexOf(bytes, searched);
    if (at < 0) return searched;
    searched = at + bytes.length;
    return at;
  };
  /** Where the record after the last one read starts: past the line ends and empty lines between. */
  const nextRecord = (): number => {
    let i = searched;
    while (block[i] === 0x0a || block[i] === 0x0d) i++;
    return i;
  };
  csvParse()(block, {
    record_delimiter: RECORD_DELIMITER,
    relax_column_count: true, // a row of the wrong length is reported below, with the header's width
    skip_empty_lines: true,
    skip_records_with_error: true,
    raw: true, // to name the line where a record starts (csv-parse's own line count goes by its record delimiter)
    on_record: (({ record, raw }: { record: string[]; raw: string }) => {
      const line = lineOf(findRecord(raw)) + 1;
      if (record.length !== width)
        items.push(new BadRecordError(`${at(line)}: expected ${width} fields (${table.columns.join(', ')}), got ${record.length}`));
      else items.push(madeRow(row(record), table, at(line)));
      return null;
    }) as never, // csv-parse's types do not know `raw` records
    // csv-parse names a line within the block ("on line N", "at line N"): the file's line comes first instead.
    // A bad record right after a good one starts where that one ended (an unclosed quote's own
    // line count runs to the block's end); after another bad record, csv-parse's count it is.
    on_skip: (err: { message: string; lines?: number } | undefined) => {
      if (!err) return;
      const line = afterBad ? (err.lines ?? 1) : lineOf(nextRecord()) + 1;
      afterBad = true;
      items.push(new BadRecordError(`${at(line)}: ${err.message.replace(/ (?:on|at) line \d+/g, '')}`));
    },
  });
  return items;
}

/** `(offset) => newlines in block[0, offset)`, for offsets that never decrease. */
function lineCounter(block: Buffer): (offset: number) => number {
  let scanned = 0;
  let lines = 0;
  return (offset) => {
    if (offset > scanned) lines += countNewlines(block.subarray(scanned, offset));
    scanned = Math.max(scanned, offset);
    return lines;
  };
}

/** A made row, or the BadRecordError of the column whose field did not fit its type. */
function madeRow(row: Record<string, unknown> | number, table: Table, where: string): unknown {
  if (typeof row !== 'number') return row;
  const name = table.columns[row]!;
  const how =
    table.types[row] === 'inferred'
      ? ` (its column was inferred to hold numbers from the first ${SAMPLE_ROWS} rows; declare its type, e.g. types: { ${JSON.stringify(name)}: 'string' })`
      : '';
  return new BadRecordError(`${where}: column ${JSON.stringify(name)}: expected a number${how}`);
}

const QUOTE = 0x22;
const COMMA = 0x2c;
/** `fieldsOf` a record whose last quoted field goes on past the end of the text given. */
const OPEN = Symbol('open quote');

/**
 * The records of a block of CSV as csv-parse reads it with our options (`,`, `"` quoting with
 * `""` inside, records ending in `\n` or `\r\n`, empty lines skipped); undefined for anything
 * else. It works line by line (scanning the block's one long string from offset to offset ran
 * 100× slower at times once V8 had optimised it), field by field, a line joined with the next
 * ones while a quoted field holds newlines.
 */
export function splitBlock(text: string, table: Table, where: { file: string; line: number }): unknown[] | undefined {
  const row = rowMaker(table);
  const width = table.columns.length;
  const items: unknown[] = [];
  const lines = text.split('\n');
  // a record's text without the \r of a \r\n that ends it (the block's last line has no \n: its \r is data)
  const record = (line: string, k: number) => (k < lines.length - 1 && line.endsWith('\r') ? line.slice(0, -1) : line);
  for (let k = 0; k < lines.length; k++) {
    let line = lines[k]!;
    if (record(line, k) === '') continue; // skip_empty_lines
    const first = k;
    let fields = fieldsOf(record(line, k));
    while (fields === OPEN && k + 1 < lines.length) fields = fieldsOf(record((line += `\n${lines[++k]}`), k)); // a newline inside quotes
    if (fields === undefined || fields === OPEN || fields.length !== width) return undefined;
    const made = row(fields);
    items.push(typeof made === 'number' ? madeRow(made, table, `${where.file} line ${where.line + first}`) : made);
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

/** `(fields) => record`, or the index of the first field that does not fit its column's type. */
type RowMaker = (fields: string[]) => Record<string, unknown> | number;
const rowMakers = new Map<string, RowMaker>();

/**
 * A compiled row maker for a table: an object literal of one shape (computed keys: own
 * properties whatever the name), string fields as they are, number fields through `numberOf`.
 */
function rowMaker(table: Table): RowMaker {
  const id = JSON.stringify(table);
  let make = rowMakers.get(id);
  if (make === undefined) {
    const checks = table.types.flatMap((t, i) =>
      t === 'string' ? [] : [`const v${i} = num(f[${i}], ${JSON.stringify(t)}); if (v${i} === undefined) return ${i};`],
    );
    const fields = table.columns.map((c, i) => `[${JSON.stringify(c)}]: ${table.types[i] === 'string' ? `f[${i}]` : `v${i}`}`);
    const body = `return (f) => { ${checks.join(' ')} return { ${fields.join(', ')} }; };`;
    make = (new Function('num', body) as (num: typeof numberOf) => RowMaker)(numberOf);
    rowMakers.set(id, make);
  }
  return make;
}

/** The line where record `position` of a CSV split starts (parsed again, with line info: errors only). */
export async function csvLineOf(split: CsvSplit, position: number): Promise<number> {
  const options = {
    record_delimiter: RECORD_DELIMITER,
    relax_column_count: true,
    skip_empty_lines: true,
    info: true,
    skip_records_with_error: true,
  };
  const rows = csvParse()(await readRange(split), options) as unknown as { info: { lines: number } }[];
  const before = position === 0 ? 0 : rows[position - 1]!.info.lines;
  return (await lineOf(split.file, split.start)) + before;
}
