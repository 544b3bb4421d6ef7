/**
 * CSV input, coordinator side: a file cut into splits at record ends, after its header, and
 * the sample of its first rows that column types are inferred from (input/plan.ts).
 */
import fs from 'node:fs';
import { BLOCK } from './file-bytes.js';
import { csvParse, isPlainNumber, RECORD_DELIMITER, recordCuts, recordEnd, SAMPLE_ROWS, skipTo } from './csv-text.js';
import type { SplitSpec } from './splits.js';

/**
 * Byte ranges of about `per` bytes of a CSV file, cut at record ends, after the header. The
 * scan jumps with `indexOf`: to the next wanted cut, counting quotes on the way (one search per
 * quote, one per block without any), then to the first newline outside quotes. It counts no
 * lines: a worker works out where its split starts only when a message needs it (csv.ts).
 */
export function csvSplits(file: string, per: number, first: number, blockSize = BLOCK): SplitSpec[] {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const block = Buffer.allocUnsafe(blockSize);
    const out: SplitSpec[] = [];
    let header: string[] | undefined;
    let splitStart = 0;
    const scan = { inQuotes: false };
    let target = 0; // the next cut: the first record end at or after this offset (0: the header's end)
    const split = (start: number, end: number): SplitSpec => ({
      kind: 'csv',
      index: first + out.length,
      file,
      start,
      end,
      columns: header!,
      types: header!.map(() => 'string'),
    });
    for (let pos = 0; pos < size;) {
      const n = fs.readSync(fd, block, 0, Math.min(blockSize, size - pos), pos);
      const buf = block.subarray(0, n);
      for (let i = 0; i < n;) {
        const stop = Math.min(n, Math.max(i, target - 1 - pos)); // a record ending at `target` or later
        skipTo(scan, buf, i, stop);
        const next = recordEnd(scan, buf, stop);
        if (next < 0) break;
        i = next;
        const end = pos + i;
        if (header === undefined) header = readHeader(file, fd, end);
        else out.push(split(splitStart, end));
        splitStart = end;
        target = end + per;
      }
      pos += n;
    }
    if (header === undefined) header = size > 0 ? readHeader(file, fd, size) : [];
    if (splitStart < size && header.length > 0 && splitStart > 0) out.push(split(splitStart, size));
    return out;
  } finally {
    fs.closeSync(fd);
  }
}

function readHeader(file: string, fd: number, end: number): string[] {
  const buf = Buffer.allocUnsafe(end);
  fs.readSync(fd, buf, 0, end, 0);
  const rows = csvParse()(buf, { to: 1, bom: true, record_delimiter: RECORD_DELIMITER }) as string[][]; // the first record, over several lines if quoted
  if (!rows[0]?.length) throw new Error(`${file}: no CSV header row`);
  return rows[0];
}

/** At most this much of a file is read for the sample. */
const SAMPLE_BYTES = 4 << 20;

/** The start of a CSV file, read once: its header (a UTF-8 byte-order mark dropped) and the type sample. */
export interface CsvSample {
  header: string[];
  /**
   * The columns that hold plain number text in every non-empty field of the first SAMPLE_ROWS
   * rows (and at least one): candidates for the `inferred` type.
   */
  numeric: Set<string>;
}

/**
 * Reads the start of a CSV file for its header and its type sample: the first SAMPLE_ROWS rows
 * of its first SAMPLE_BYTES, read 64 KiB first and more only while the rows read fall short
 * (finding every record end of 4 MiB took most of a plan's time). Rows are parsed in order and
 * each read ends at a record end, so a read that holds SAMPLE_ROWS rows samples what a longer one would.
 */
export function csvSample(file: string): CsvSample {
  const fd = fs.openSync(file, 'r');
  try {
    const most = Math.min(SAMPLE_BYTES, fs.fstatSync(fd).size);
    for (let size = Math.min(most, 64 << 10); ; size = Math.min(most, 4 * size)) {
      const buf = Buffer.allocUnsafe(size);
      const read = sampleOf(file, buf.subarray(0, fs.readSync(fd, buf, 0, size, 0)), size === most);
      if (read && (read.rows >= SAMPLE_ROWS || size === most)) return read.sample;
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** The header and sample of the file's first bytes `buf` (its whole records only), and the rows sampled; undefined when `buf` holds no whole record and more could be read. */
function sampleOf(file: string, buf: Buffer, last: boolean): { sample: CsvSample; rows: number } | undefined {
  const cuts = recordCuts(buf, 1);
  if (cuts.length === 0 && !last) return undefined;
  const headerEnd = cuts[0] ?? buf.length;
  if (headerEnd === 0) return { sample: { header: [], numeric: new Set() }, rows: 0 };
  const header = (csvParse()(buf.subarray(0, headerEnd), { to: 1, bom: true, record_delimiter: RECORD_DELIMITER }) as string[][])[0];
  if (!header?.length) throw new Error(`${file}: no CSV header row`);
  const whole = cuts.length > 0 && cuts.at(-1) === buf.length ? buf : buf.subarray(0, cuts.at(-1) ?? 0); // whole records only
  const [, ...sample] = csvParse()(whole, {
    bom: true,
    record_delimiter: RECORD_DELIMITER,
    relax_column_count: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    to: SAMPLE_ROWS + 1,
  }) as string[][];
  const numeric = new Set<string>();
  header.forEach((name, i) => {
    let seen = false;
    for (const row of sample) {
      const v = row[i];
      if (v === undefined || v === '') continue;
      if (!isPlainNumber(v)) return;
      seen = true;
    }
    if (seen) numeric.add(name);
  });
  return { sample: { header, numeric }, rows: sample.length };
}
