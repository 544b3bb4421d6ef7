/**
 * Planning an input, in the coordinating thread: the input checked, cut into splits, and —
 * for CSV — each column's type settled for the whole job (docs/types.md), before any work.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe } from '../../errors.js';
import { checkNames, positiveInt } from '../checks.js';
import { resolveRef } from '../runtime/modules.js';
import { csvSample, csvSplits } from './csv-plan.js';
import type { ColumnType } from './csv-text.js';
import { ndjsonSplits, rangeSplits, type SplitSpec } from './splits.js';

/** A field's declared type (the `types` option). */
export type FieldType = 'string' | 'number';

/** What the job reads of each record, to type and check CSV columns. */
export interface Reads {
  /** The key field (none for a key module). */
  key?: string;
  /** The key column is typed as other columns are (a sort's), not read as text. */
  typedKey?: boolean;
  /** Fields read by sum or mean: numbers. */
  numeric: string[];
  /** Every aggregated field. */
  fields: string[];
  types: Record<string, FieldType>;
  /** Whole records reach the output or user code (a shuffle, a key module, a custom reducer without a field): every column is typed; else only the columns read. */
  whole: boolean;
}

/** A planned input: its splits, total bytes, what identifies it for resuming, and which fields hold strings. */
export interface PlannedInput {
  splits: SplitSpec[];
  bytesTotal: number;
  descriptor: unknown;
  /** Fields whose values are strings by their type: CSV string columns and declared strings. */
  stringFields: Set<string>;
}

const MiB = 1 << 20;
/** The sizes of range splits a default plan makes: big enough that handing one out costs little. */
const RANGE_SPLIT_MIN = 50_000;
const RANGE_SPLIT_MAX = 1_000_000;
const KINDS = 'expected { generate, count }, { make, count }, { ndjson }, { csv } or { records }';

/** The index ranges a `{ generate | make, count }` input is cut into by default: about 16 per worker, handed out one at a time (scatter/phase.ts), so threads end together. */
const rangeCount = (count: number, workers: number) =>
  Math.ceil(count / Math.min(RANGE_SPLIT_MAX, Math.max(RANGE_SPLIT_MIN, Math.ceil(count / (16 * workers)))));

/** The bytes of a file split: `splitCount` of the whole, else about 4 per worker, within 1–64 MiB. */
const fileSplitBytes = (bytesTotal: number, workers: number, splitCount: number | undefined) =>
  splitCount ? Math.max(1, Math.ceil(bytesTotal / splitCount)) : Math.max(MiB, Math.min(64 * MiB, Math.ceil(bytesTotal / (4 * workers))));

/**
 * At least as many splits as `planInput` will make of `input`, from file sizes and counts only
 * (no read): the threads worth starting before the input is planned. `workers` when it cannot tell.
 */
export function mostSplits(input: unknown, workers: number, splitCount: number | undefined): number {
  try {
    const i = input as { csv?: unknown; ndjson?: unknown; count?: unknown; generate?: unknown; make?: unknown };
    if ((i.generate !== undefined || i.make !== undefined) && Number.isSafeInteger(i.count) && (i.count as number) > 0)
      return splitCount ?? rangeCount(i.count as number, workers);
    const files = [i.csv ?? i.ndjson ?? []].flat();
    if (files.length === 0 || !files.every((f) => typeof f === 'string')) return workers;
    const sizes = (files as string[]).map((f) => fs.statSync(f).size);
    const per = fileSplitBytes(
      sizes.reduce((a, b) => a + b, 0),
      workers,
      splitCount,
    );
    const n = sizes.reduce((n, size) => n + Math.ceil(size / per), 0); // a CSV file's cuts are at least `per` apart: no more
    return n > 0 ? n : workers; // no split: the plan keeps the workers asked
  } catch {
    return workers; // planning reports what is wrong
  }
}

/** Checks the input and plans its splits. */
export async function planInput(input: unknown, workers: number, splitCount: number | undefined, reads: Reads): Promise<PlannedInput> {
  if (!input || typeof input !== 'object') throw new TypeError(`input: ${KINDS}`);
  const declared = new Set(Object.entries(reads.types).flatMap(([k, t]) => (t === 'string' ? [k] : [])));
  if ('generate' in input || 'make' in input) {
    const perIndex = 'make' in input;
    checkNames(input, [perIndex ? 'make' : 'generate', 'count'], 'input');
    const { make, generate, count } = input as { make?: unknown; generate?: unknown; count?: unknown };
    const ref = await resolveRef(perIndex ? make : generate, perIndex ? 'input.make' : 'input.generate');
    const given = positiveInt(count, 'input.count', undefined);
    const n = splitCount ?? rangeCount(given, workers);
    const splits = rangeSplits(given, Math.ceil(given / n), ref, perIndex);
    return {
      splits,
      bytesTotal: 0,
      descriptor: perIndex ? { make: ref, count: given } : { generate: ref, count: given },
      stringFields: declared,
    };
  }
  if ('ndjson' in input || 'csv' in input) {
    const csv = 'csv' in input;
    checkNames(input, [csv ? 'csv' : 'ndjson'], 'input');
    const files = [csv ? (input as { csv: unknown }).csv : (input as { ndjson: unknown }).ndjson].flat() as unknown[];
    if (files.length === 0) throw new RangeError('input: no files given');
    for (const f of files) {
      if (typeof f !== 'string') throw new TypeError(`input: expected file paths, got ${describe(f)}`);
      if (!fs.existsSync(f)) throw new Error(`input: file ${JSON.stringify(f)} does not exist`);
      if (!fs.statSync(f).isFile()) throw new Error(`input: ${JSON.stringify(f)} is not a file`);
    }
    const paths = (files as string[]).map((f) => path.resolve(f));
    const bytesTotal = paths.reduce((n, f) => n + fs.statSync(f).size, 0);
    const per = fileSplitBytes(bytesTotal, workers, splitCount);
    const descriptor = { [csv ? 'csv' : 'ndjson']: paths.map((f) => [f, fs.statSync(f).size, fs.statSync(f).mtimeMs]) };
    const splits: SplitSpec[] = [];
    if (!csv) {
      for (const f of paths) for (const split of ndjsonSplits(f, per, splits.length)) splits.push(split);
      return { splits, bytesTotal, descriptor, stringFields: declared };
    }
    const { typesOf, stringFields } = csvTypes(paths, reads);
    for (const f of paths) for (const split of csvSplits(f, per, splits.length)) splits.push({ ...split, types: typesOf(f) } as SplitSpec);
    return { splits, bytesTotal, descriptor, stringFields };
  }
  if ('records' in input) {
    checkNames(input, ['records'], 'input');
    const r = (input as { records: unknown }).records as Record<symbol, unknown> | null;
    if (!r || (typeof r[Symbol.iterator] !== 'function' && typeof r[Symbol.asyncIterator] !== 'function'))
      throw new TypeError('input.records: expected an iterable or async iterable');
    if (splitCount !== undefined)
      throw new RangeError(
        'splits: a records input is cut into batches as it is read; splits applies to generate, make, ndjson and csv inputs',
      );
    // Never the same input twice: a re-run on a kept store cannot tell its records are the same, so it is not resumed.
    return { splits: [], bytesTotal: 0, descriptor: { records: randomUUID() }, stringFields: declared };
  }
  throw new TypeError(`input: ${KINDS}`);
}

/**
 * The type of every column of the CSV files (docs/types.md), one type per column name across
 * the files: declared, else string for the key, else number for sum and mean, else inferred
 * from the first rows of every file that has the column.
 */
function csvTypes(files: string[], reads: Reads): { typesOf: (file: string) => ColumnType[]; stringFields: Set<string> } {
  const samples = new Map(files.map((f) => [f, csvSample(f)]));
  const headers = new Map([...samples].map(([f, s]) => [f, s.header]));
  for (const [file, header] of headers) {
    for (const [what, name] of [
      ...(reads.key === undefined ? [] : [['key', reads.key]]),
      ...reads.fields.map((f) => ['aggregate field', f]),
    ]) {
      if (!header.includes(name!))
        throw new RangeError(
          `${what === 'key' ? 'key' : 'aggregate'}: column ${JSON.stringify(name)} is not in the header of ${file} (its columns: ${header.join(', ')})`,
        );
      const at = header.flatMap((c, i) => (c === name ? [i + 1] : []));
      // which one the job means is a guess: csv-parse and a record object keep the last, DuckDB the first
      if (at.length > 1)
        throw new RangeError(
          `${file}: column ${JSON.stringify(name)} appears ${at.length} times in its header (columns ${at.join(', ')}); the ${what} reads it by name: rename all but one`,
        );
    }
  }
  const inferred = new Map<string, boolean>(); // column name → plain numbers in every file's sample
  for (const { header, numeric } of samples.values()) {
    for (const c of header) inferred.set(c, (inferred.get(c) ?? true) && numeric.has(c));
  }
  const typeOf = (c: string): ColumnType => settled(c, reads) ?? (inferred.get(c) ? 'inferred' : 'string');
  const stringFields = new Set<string>();
  for (const header of headers.values()) for (const c of header) if (typeOf(c) === 'string') stringFields.add(c);
  return { typesOf: (f) => headers.get(f)!.map(typeOf), stringFields };
}

/** A column's type when it does not depend on its values. */
function settled(column: string, reads: Reads): ColumnType | undefined {
  if (Object.hasOwn(reads.types, column)) return reads.types[column];
  if (column === reads.key && !reads.typedKey) return 'string';
  if (reads.numeric.includes(column)) return 'number';
  if (!reads.whole && !reads.fields.includes(column)) return 'string'; // never read: left as text, never a bad record
  return undefined;
}
