/**
 * CSV input, coordinator side: a file cut into splits at record ends, after its header, and
 * the sample of its first rows that column types are inferred from (input/plan.ts).
 */
import fs from 'node:fs';
import { BLOCK, countNewlines } from './file-bytes.js';
import { csvParse, isPlainNumber, recordCuts, recordEnd, SAMPLE_ROWS, skipTo } from './csv-text.js';
import type { SplitSpec } from './splits.js';

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
    for (let pos = 0; pos < size;) {
      const n = fs.readSync(fd, block, 0, Math.min(blockSize, size - pos), pos);
      const buf = block.subarray(0, n);
      for (let i = 0; i < n;) {
        const stop = Math.min(n, Math.max(i, target - 1 - pos)); // a record ending at `target` or later
        skipTo(scan, buf, i, stop);
        line += countNewlines(buf.subarray(i, stop));
        const next = recordEnd(scan, buf, stop);
        line += countNewlines(buf.subarray(stop, next < 0 ? n : next));
        if (next < 0) break;
        i = next;
        const end = pos + i;
        if (header === undefined) header = readHeader(file, fd, end);
        else
          out.push({
            kind: 'csv',
            index: first + out.length,
            file,
            start: splitStart,
            end,
            columns: header,
            types: header.map(() => 'string'),
            line: splitLine,
          });
        splitStart = end;
        splitLine = line;
        target = end + per;
      }
      pos += n;
    }
    if (header === undefined) header = size > 0 ? readHeader(file, fd, size) : [];
    if (splitStart < size && header.length > 0 && splitLine > 0) {
      out.push({
        kind: 'csv',
        index: first + out.length,
        file,
        start: splitStart,
        end: size,
        columns: header,
        types: header.map(() => 'string'),
        line: splitLine,
      });
    }
    return out;
  } finally {
    fs.closeSync(fd);
  }
}

function readHeader(file: string, fd: number, end: number): string[] {
  const buf = Buffer.allocUnsafe(end);
  fs.readSync(fd, buf, 0, end, 0);
  const rows = csvParse()(buf, { to_line: 1, bom: true }) as string[][];
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

/** Reads the first SAMPLE_BYTES of a CSV file for its header and its type sample. */
export function csvSample(file: string): CsvSample {
  const fd = fs.openSync(file, 'r');
  let buf: Buffer;
  try {
    buf = Buffer.allocUnsafe(Math.min(SAMPLE_BYTES, fs.fstatSync(fd).size));
    buf = buf.subarray(0, fs.readSync(fd, buf, 0, buf.length, 0));
  } finally {
    fs.closeSync(fd);
  }
  const cuts = recordCuts(buf, 1);
  const headerEnd = cuts[0] ?? buf.length;
  if (headerEnd === 0) return { header: [], numeric: new Set() };
  const header = (csvParse()(buf.subarray(0, headerEnd), { to_line: 1, bom: true }) as string[][])[0];
  if (!header?.length) throw new Error(`${file}: no CSV header row`);
  const whole = cuts.length > 0 && cuts.at(-1) === buf.length ? buf : buf.subarray(0, cuts.at(-1) ?? 0); // whole records only
  const [, ...sample] = csvParse()(whole, {
    bom: true,
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
  return { header, numeric };
}
