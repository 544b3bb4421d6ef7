/**
 * Input splits: the coordinator cuts the input into splits (this file's `planSplits`), and a
 * scatter worker reads one split's records (`readSplit`).
 *
 * - a generator module over `[0, N)`: index ranges;
 * - NDJSON: byte ranges; a line belongs to the split in which it *starts*, so a line that
 *   crosses a boundary is read exactly once;
 * - CSV (header row): byte ranges cut at record ends found by a quote-aware scan, so quoted
 *   commas, quotes and newlines inside fields never straddle two splits;
 * - records from an iterable in the calling thread: batches, one message each.
 */
import fs from 'node:fs';
import { parse as parseCsv } from 'csv-parse/sync';
import { BadRecordError } from '../errors.js';
import { loadRef, type ResolvedRef } from './modules.js';

/** One split, as sent to a worker (structured-clonable). */
export type SplitSpec =
  | { kind: 'range'; index: number; start: number; end: number; generator: ResolvedRef; perIndex?: boolean }
  | { kind: 'ndjson'; index: number; file: string; start: number; end: number }
  | { kind: 'csv'; index: number; file: string; start: number; end: number; columns: string[]; line: number }
  | { kind: 'records'; index: number; records: unknown[] };

/** Where a record came from, for error messages and input order. */
export interface Origin {
  /** Position of the record within its split. */
  position: number;
  /** Byte offset (file inputs) of the record's start. */
  offset?: number;
}

/**
 * Called per record (no allocation per record: `at` is the byte offset of an NDJSON line);
 * `bad` is called instead for an unreadable one.
 */
export interface RecordSink {
  record(record: unknown, position: number, at?: number): void;
  /** An unreadable record; it takes a position too, so retries skip it like any other. */
  bad(error: BadRecordError, position: number): void;
}

/** The Origin of a record, from what the sink was given. */
export function originOf(split: SplitSpec, position: number, at?: number): Origin {
  return split.kind === 'ndjson' ? { position, offset: at } : { position };
}

/** A human description of a split, for errors. */
export function describeSplit(s: SplitSpec): string {
  switch (s.kind) {
    case 'range': return `split ${s.index} (records ${s.start}..${s.end})`;
    case 'ndjson':
    case 'csv': return `split ${s.index} (${s.file} bytes ${s.start}..${s.end})`;
    case 'records': return `split ${s.index} (a batch of ${s.records.length} records)`;
  }
}

const BLOCK = 4 << 20;

/** Index ranges of about `per` records; `perIndex`: the generator makes one record per call, `(i) => record`. */
export function rangeSplits(count: number, per: number, generator: ResolvedRef, perIndex = false): SplitSpec[] {
  const out: SplitSpec[] = [];
  for (let start = 0; start < count; start += per) out.push({ kind: 'range', index: out.length, start, end: Math.min(count, start + per), generator, perIndex });
  return out;
}

/** Byte ranges of about `per` bytes of an NDJSON file. */
export function ndjsonSplits(file: string, per: number, first: number): SplitSpec[] {
  const size = fs.statSync(file).size;
  const out: SplitSpec[] = [];
  for (let start = 0; start < size; start += per) out.push({ kind: 'ndjson', index: first + out.length, file, start, end: Math.min(size, start + per) });
  return out;
}

/** Byte ranges of about `per` bytes of a CSV file, cut at record ends, after the header. */
export function csvSplits(file: string, per: number, first: number): SplitSpec[] {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const buf = Buffer.allocUnsafe(BLOCK);
    let inQuotes = false;
    let line = 1; // physical line of the current position
    let header: string[] | undefined;
    const out: SplitSpec[] = [];
    let splitStart = 0;
    let splitLine = 0;
    for (let pos = 0; pos < size; ) {
      const n = fs.readSync(fd, buf, 0, Math.min(BLOCK, size - pos), pos);
      for (let i = 0; i < n; i++) {
        const c = buf[i];
        if (c === 0x22) inQuotes = !inQuotes; // an escaped quote ("") toggles twice
        else if (c === 0x0a) {
          line++;
          if (inQuotes) continue;
          const end = pos + i + 1;
          if (header === undefined) {
            header = readHeader(file, fd, end);
            splitStart = end;
            splitLine = line;
          } else if (end - splitStart >= per) {
            out.push({ kind: 'csv', index: first + out.length, file, start: splitStart, end, columns: header, line: splitLine });
            splitStart = end;
            splitLine = line;
          }
        }
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

function readHeader(file: string, fd: number, end: number): string[] {
  const buf = Buffer.allocUnsafe(end);
  fs.readSync(fd, buf, 0, end, 0);
  const rows = parseCsv(buf, { to_line: 1 }) as string[][];
  if (!rows[0]?.length) throw new Error(`${file}: no CSV header row`);
  return rows[0];
}

/** Reads one split, calling the sink per record. */
export async function readSplit(split: SplitSpec, sink: RecordSink): Promise<{ bytes: number }> {
  switch (split.kind) {
    case 'range': {
      if (split.perIndex) {
        // A plain loop: no iterator protocol per record.
        const make = await loadRef<(i: number) => unknown>(split.generator);
        for (let i = split.start; i < split.end; i++) sink.record(make(i), i - split.start);
        return { bytes: 0 };
      }
      const gen = await loadRef<(start: number, end: number) => Iterable<unknown>>(split.generator);
      let position = 0;
      for (const record of gen(split.start, split.end)) sink.record(record, position++);
      return { bytes: 0 };
    }
    case 'records':
      split.records.forEach((record, position) => sink.record(record, position));
      return { bytes: 0 };
    case 'ndjson':
      return readNdjson(split, sink);
    case 'csv':
      return readCsv(split, sink);
  }
}

async function readNdjson(split: Extract<SplitSpec, { kind: 'ndjson' }>, sink: RecordSink): Promise<{ bytes: number }> {
  const fh = await fs.promises.open(split.file, 'r');
  try {
    // A line belongs to the split where it starts: skip the tail of a line begun before `start`.
    let pos = split.start === 0 ? 0 : split.start - 1;
    let carry: Buffer = Buffer.alloc(0);
    let skipping = split.start !== 0;
    let lineStart = pos;
    let position = 0;
    for (;;) {
      const block = Buffer.allocUnsafe(BLOCK);
      const { bytesRead } = await fh.read(block, 0, BLOCK, pos);
      const eof = bytesRead === 0;
      const buf = carry.length ? Buffer.concat([carry, block.subarray(0, bytesRead)]) : block.subarray(0, bytesRead);
      const base = pos - carry.length; // file offset of buf[0]
      let i = 0;
      for (;;) {
        if (base + i >= split.end && !skipping) return { bytes: split.end - split.start };
        const nl = buf.indexOf(0x0a, i);
        if (nl < 0 && !eof) break;
        const stop = nl < 0 ? buf.length : nl;
        if (skipping) skipping = false;
        else if (stop > i) {
          lineStart = base + i;
          const text = buf.toString('utf8', i, stop);
          if (text.trim() !== '') {
            let record: unknown;
            let parsed = true;
            try {
              record = JSON.parse(text);
            } catch (e) {
              parsed = false;
              // The line number costs a scan from the file's start: scatter works it out from
              // `origin` only if the error is thrown, never per skipped line.
              const error = new BadRecordError(`not JSON: ${(e as Error).message}`);
              error.origin = { position, offset: lineStart };
              sink.bad(error, position++);
            }
            if (parsed) sink.record(record, position++, lineStart);
          }
        }
        if (nl < 0) return { bytes: split.end - split.start };
        i = nl + 1;
      }
      carry = buf.subarray(i);
      pos += bytesRead;
    }
  } finally {
    await fh.close();
  }
}

/** The 1-based line number of a byte offset (only computed for an error). */
export async function lineOf(file: string, offset: number): Promise<number> {
  let line = 1;
  const fh = await fs.promises.open(file, 'r');
  try {
    const block = Buffer.allocUnsafe(BLOCK);
    for (let pos = 0; pos < offset; ) {
      const { bytesRead } = await fh.read(block, 0, Math.min(BLOCK, offset - pos), pos);
      if (bytesRead === 0) break;
      line += countNewlines(block.subarray(0, bytesRead));
      pos += bytesRead;
    }
  } finally {
    await fh.close();
  }
  return line;
}

async function readSplitBytes(split: { file: string; start: number; end: number }): Promise<Buffer> {
  const fh = await fs.promises.open(split.file, 'r');
  const buf = Buffer.allocUnsafe(split.end - split.start);
  try {
    await fh.read(buf, 0, buf.length, split.start);
  } finally {
    await fh.close();
  }
  return buf;
}

type CsvSplit = Extract<SplitSpec, { kind: 'csv' }>;
const csvOptions = (split: CsvSplit) => ({ columns: split.columns, cast: true, skip_empty_lines: true });

/** CSV is parsed in blocks of about this many bytes, cut at record ends: memory stays bounded whatever the split size. */
const CSV_BLOCK = 1 << 20;

async function readCsv(split: CsvSplit, sink: RecordSink): Promise<{ bytes: number }> {
  const buf = await readSplitBytes(split);
  let position = 0;
  let line = split.line; // the line where the current block starts
  let from = 0;
  for (const to of [...recordCuts(buf, CSV_BLOCK), buf.length]) {
    const block = buf.subarray(from, to);
    // Records and unreadable rows in input order, so positions are the same on every attempt.
    // No `info` (it halves csv-parse's speed): a record's line is worked out only for an error.
    const items: unknown[] = [];
    const bad = new Set<number>();
    parseCsv(block, {
      ...csvOptions(split),
      skip_records_with_error: true,
      on_record: (record: unknown) => void items.push(record),
      on_skip: (err: { message: string; lines?: number } | undefined) => {
        if (!err) return;
        bad.add(items.length);
        // csv-parse's own "on line N" counts within the block: the file's line comes first instead.
        items.push(new BadRecordError(`${split.file} line ${line + (err.lines ?? 1) - 1}: ${err.message.replace(/ on line \d+$/, '')}`));
      },
    });
    items.forEach((item, i) => (bad.has(i) ? sink.bad(item as BadRecordError, position++) : sink.record(item, position++)));
    line += countNewlines(block);
    from = to;
  }
  return { bytes: buf.length };
}

/** Offsets just past record-ending newlines (outside quotes), about `every` bytes apart. */
export function recordCuts(buf: Buffer, every: number): number[] {
  const cuts: number[] = [];
  let inQuotes = false;
  const toggle = (from: number, to: number) => {
    for (let q = buf.indexOf(0x22, from); q >= 0 && q < to; q = buf.indexOf(0x22, q + 1)) inQuotes = !inQuotes; // "" toggles twice
  };
  for (let last = 0; last + every < buf.length; ) {
    toggle(last, last + every);
    let cut = -1;
    for (let i = last + every; cut < 0; ) {
      const nl = buf.indexOf(0x0a, i);
      if (nl < 0) return cuts;
      toggle(i, nl);
      i = nl + 1;
      if (!inQuotes) cut = i;
    }
    cuts.push(cut);
    last = cut;
  }
  return cuts;
}

function countNewlines(buf: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(0x0a); i >= 0; i = buf.indexOf(0x0a, i + 1)) n++;
  return n;
}

/** The line where record `position` of a CSV split starts (parsed again, with line info: errors only). */
export async function csvLineOf(split: CsvSplit, position: number): Promise<number> {
  const rows = parseCsv(await readSplitBytes(split), { ...csvOptions(split), info: true, skip_records_with_error: true }) as { info: { lines: number } }[];
  const before = position === 0 ? 0 : rows[position - 1]!.info.lines;
  return split.line + before;
}
