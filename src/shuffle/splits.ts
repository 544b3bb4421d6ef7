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
import { BadRecordError } from '../errors.js';
import { readCsv, type ColumnType } from './csv.js';
import { BLOCK } from './file-bytes.js';
import { loadRef, type ResolvedRef } from './modules.js';

/** One split, as sent to a worker (structured-clonable). */
export type SplitSpec =
  | { kind: 'range'; index: number; start: number; end: number; generator: ResolvedRef; perIndex?: boolean }
  | { kind: 'ndjson'; index: number; file: string; start: number; end: number }
  | { kind: 'csv'; index: number; file: string; start: number; end: number; columns: string[]; types: ColumnType[]; line: number }
  | { kind: 'records'; index: number; records: unknown[]; /** Items that could not be sent to a worker (a placeholder stands in their place): position → why. */ unsendable?: [number, string][] };

/** Records of a `records` input are sent to the workers in batches of this many (batch i: items from i · RECORDS_BATCH). */
export const RECORDS_BATCH = 10_000;

/** Where a record came from, for error messages and input order. */
export interface Origin {
  /** Position of the record within its split. */
  position: number;
  /** Byte offset (file inputs) of the record's start. */
  offset?: number;
  /** The split, when not the one being read (a record found unstorable when its chunk is encoded). */
  split?: number;
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
    case 'records': {
      const unsendable = new Map(split.unsendable);
      split.records.forEach((record, position) => {
        const why = unsendable.get(position);
        if (why === undefined) sink.record(record, position);
        else sink.bad(new BadRecordError(why), position);
      });
      return { bytes: 0 };
    }
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
      // Decoded at once when each byte is one character (ASCII), so a line is a slice of it:
      // decoding line by line made the read ~7% slower.
      const decoded = buf.toString('utf8');
      const ascii = decoded.length === buf.length ? decoded : undefined;
      let i = base === 0 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0; // a UTF-8 byte-order mark is not part of the first line
      for (;;) {
        if (base + i >= split.end && !skipping) return { bytes: split.end - split.start };
        const nl = buf.indexOf(0x0a, i);
        if (nl < 0 && !eof) break;
        const stop = nl < 0 ? buf.length : nl;
        if (skipping) skipping = false;
        else if (stop > i) {
          lineStart = base + i;
          const text = ascii === undefined ? buf.toString('utf8', i, stop) : ascii.slice(i, stop);
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

