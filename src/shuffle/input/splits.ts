/**
 * Input splits, the unit of work of the scatter phase: what a split is (sent to a worker as
 * is), and how the coordinator cuts an input into them (read.ts reads one, in a worker):
 *
 * - a generator module over `[0, N)`: index ranges;
 * - NDJSON: byte ranges; a line belongs to the split in which it *starts*, so a line that
 *   crosses a boundary is read exactly once;
 * - CSV (header row): byte ranges cut at record ends found by a quote-aware scan, so quoted
 *   commas, quotes and newlines inside fields never straddle two splits;
 * - records from an iterable in the calling thread: batches, one message each.
 */
import fs from 'node:fs';
import type { BadRecordError } from '../../errors.js';
import type { ColumnType } from './csv-text.js';
import type { ResolvedRef } from '../runtime/modules.js';
import { grown } from '../grown.js';

/** One split, as sent to a worker (structured-clonable). */
export type SplitSpec =
  | { kind: 'range'; index: number; start: number; end: number; generator: ResolvedRef; perIndex?: boolean }
  | { kind: 'ndjson'; index: number; file: string; start: number; end: number }
  /** A CSV split's lines are not counted when it is planned: a worker counts them up to `start` when a message needs one (csv.ts). */
  | { kind: 'csv'; index: number; file: string; start: number; end: number; columns: string[]; types: ColumnType[] }
  | {
      kind: 'records';
      index: number;
      records: unknown[];
      /** Items that could not be sent to a worker (a placeholder stands in their place): position → why. */ unsendable?: [
        number,
        string,
      ][];
    };

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
  /** Set when the sink also takes records as a key's bytes and numbers (a reader's fast path). */
  readonly keyed?: KeyedSink;
}

/** Records as a string key's bytes and the numbers of the value fields, in `values` order. */
export interface KeyedSink {
  key: string;
  values: readonly string[];
  /** Records `position`, `position + 1`, …: the rows of a block (`KeyedRows`: each key's byte range in `bytes`, and the values). */
  add(position: number, bytes: Uint8Array, rows: KeyedRows): void;
}

/** Rows of a block as a key's byte range and values: row `r` holds `values[r · width, (r + 1) · width)`, one per value field. */
export interface KeyedRows {
  count: number;
  /** The newlines the rows were read from (for the line numbers of later blocks). */
  lines: number;
  keyFrom: Int32Array;
  keyTo: Int32Array;
  /** Each key's `hashBytes` (groupby/byte-keys.ts), worked out while its bytes were read. */
  keyHash: Int32Array;
  values: Float64Array;
}

/** Empty rows to read into. */
export const keyedRows = (): KeyedRows => ({
  count: 0,
  lines: 0,
  keyFrom: new Int32Array(0),
  keyTo: new Int32Array(0),
  keyHash: new Int32Array(0),
  values: new Float64Array(0),
});

/** Doubles the row capacity of `rows` (`width` values a row). */
export function growRows(rows: KeyedRows, width: number): void {
  rows.keyFrom = grown(rows.keyFrom, 1024);
  rows.keyTo = grown(rows.keyTo, 1024);
  rows.keyHash = grown(rows.keyHash, 1024);
  rows.values = grown(rows.values, 1024 * width);
}

/** The Origin of a record, from what the sink was given. */
export function originOf(split: SplitSpec, position: number, at?: number): Origin {
  return split.kind === 'ndjson' ? { position, offset: at } : { position };
}

/** A human description of a split, for errors. */
export function describeSplit(s: SplitSpec): string {
  switch (s.kind) {
    case 'range':
      return `split ${s.index} (records ${s.start}..${s.end})`;
    case 'ndjson':
    case 'csv':
      return `split ${s.index} (${s.file} bytes ${s.start}..${s.end})`;
    case 'records':
      return `split ${s.index} (a batch of ${s.records.length} records)`;
  }
}

/** Index ranges of about `per` records; `perIndex`: the generator makes one record per call, `(i) => record`. */
export function rangeSplits(count: number, per: number, generator: ResolvedRef, perIndex = false): SplitSpec[] {
  const out: SplitSpec[] = [];
  for (let start = 0; start < count; start += per)
    out.push({ kind: 'range', index: out.length, start, end: Math.min(count, start + per), generator, perIndex });
  return out;
}

/** Byte ranges of about `per` bytes of an NDJSON file. */
export function ndjsonSplits(file: string, per: number, first: number): SplitSpec[] {
  const size = fs.statSync(file).size;
  const out: SplitSpec[] = [];
  for (let start = 0; start < size; start += per)
    out.push({ kind: 'ndjson', index: first + out.length, file, start, end: Math.min(size, start + per) });
  return out;
}
