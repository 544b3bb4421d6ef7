/**
 * An independent implementation of docs/types.md, the reference test/exact-answers.test.ts
 * compares the library and the CLI with. It imports nothing from src/: a CSV parser of its
 * own (checked against csv-parse in the test), the column-type rules, and grouping with plain
 * loops, one record after another in file order.
 */
import fs from 'node:fs';

export type ColType = 'string' | 'number';
export type Op = 'count' | 'sum' | 'mean' | 'min' | 'max' | 'first' | 'last' | 'collect';
/** An aggregation, named as the CLI names its columns (`count`, `sum_amount`, …). */
export interface Agg {
  name: string;
  op: Op;
  field?: string;
}
export interface Job {
  format: 'csv' | 'ndjson';
  files: string[];
  key: string;
  /** groupBy's aggregations; absent for a shuffle. */
  aggs?: Agg[];
  types?: Record<string, ColType>;
}
/** A bad record: where it is, and the field it is bad in (none for a ragged row or bad JSON). */
export interface Bad {
  file: string;
  line: number;
  field?: string;
  why: string;
  /** an inferred column: the message also says how to declare its type */
  hint?: boolean;
}
export type Row = { key: string | number } & Record<string, unknown>;
export type Outcome =
  | { kind: 'ok'; rows: Row[]; records: Record<string, unknown>[]; bad: Bad[]; columnTypes?: Record<string, ColType> }
  /** An error before any work: a column missing from a file's header. */
  | { kind: 'fatal'; file: string; field: string };

// ---------------------------------------------------------------- CSV text

export interface CsvFile {
  header: string[];
  headerLine: number;
  rows: { fields: string[]; line: number }[];
}

/**
 * RFC 4180 CSV: a BOM at the start is dropped; records end in `\n` or `\r\n` outside quotes;
 * a quoted field runs to a `"` not followed by another (`""` is one `"`). `line` is the
 * physical line (1-based) where the record starts. Malformed quoting throws: the test files
 * have none.
 */
export function parseCsv(text: string): CsvFile {
  let parsed = parsedCsv.get(text);
  if (!parsed) parsedCsv.set(text, (parsed = parseCsvText(text)));
  return parsed;
}
const parsedCsv = new Map<string, CsvFile>();

function parseCsvText(text: string): CsvFile {
  if (text.startsWith('\uFEFF')) text = text.slice(1);
  const records: { fields: string[]; line: number }[] = [];
  let line = 1;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const start = line;
    const fields: string[] = [];
    for (;;) {
      let field = '';
      if (text[i] === '"') {
        i++;
        for (;;) {
          if (i >= n) throw new Error(`unclosed quote in the record of line ${start}`);
          const c = text[i]!;
          if (c === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (c === '\n') line++;
          field += c;
          i++;
        }
        if (i < n && text[i] !== ',' && text[i] !== '\n' && !(text[i] === '\r' && text[i + 1] === '\n'))
          throw new Error(`text after a closing quote on line ${line}`);
      } else {
        // a record ends in \n or \r\n, each line as it has it; any other \r is data
        while (i < n && text[i] !== ',' && text[i] !== '\n' && !(text[i] === '\r' && text[i + 1] === '\n')) {
          if (text[i] === '"') throw new Error(`a quote inside an unquoted field on line ${line}`);
          field += text[i];
          i++;
        }
      }
      fields.push(field);
      if (i >= n) break;
      if (text[i] === ',') {
        i++;
        continue;
      }
      // end of record
      i += text[i] === '\r' ? 2 : 1;
      line++;
      break;
    }
    records.push({ fields, line: start });
  }
  if (records.length === 0) throw new Error('no header');
  const [head, ...rows] = records;
  return { header: head!.fields, headerLine: head!.line, rows };
}

// ---------------------------------------------------------------- the rules

/** numeric text: what a declared or summed `number` column takes. */
export const NUMERIC_TEXT = /^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/;
/** plain number text: what an inferred `number` column takes. */
export const PLAIN_NUMBER = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$/;

/** Plain number text, and an integer (no `.` or exponent) only within ±(2^53 − 1). */
export function isPlainNumber(text: string): boolean {
  if (!PLAIN_NUMBER.test(text)) return false;
  if (/^-?[0-9]+$/.test(text)) return Number.isSafeInteger(Number(text));
  return true;
}

const SAMPLE_ROWS = 1000;

type How = 'declared' | 'key' | 'aggregated' | 'inferred';

/** Every column's type for the whole job, and why (which reading rule applies). */
export function csvColumnTypes(job: Job, files: CsvFile[]): Map<string, { type: ColType; how: How }> {
  const out = new Map<string, { type: ColType; how: How }>();
  const columns = new Set(files.flatMap((f) => f.header));
  const summed = new Set((job.aggs ?? []).filter((a) => a.op === 'sum' || a.op === 'mean').map((a) => a.field!));
  for (const col of columns) {
    const declared = job.types?.[col];
    if (declared !== undefined) out.set(col, { type: declared, how: 'declared' });
    else if (col === job.key) out.set(col, { type: 'string', how: 'key' });
    else if (summed.has(col)) out.set(col, { type: 'number', how: 'aggregated' });
    else {
      let nonEmpty = 0;
      let plain = true;
      for (const f of files) {
        const j = f.header.indexOf(col);
        if (j < 0) continue;
        for (const r of f.rows.slice(0, SAMPLE_ROWS)) {
          const v = r.fields[j];
          if (v === undefined || v === '') continue;
          nonEmpty++;
          if (!isPlainNumber(v)) plain = false;
        }
      }
      out.set(col, { type: nonEmpty > 0 && plain ? 'number' : 'string', how: 'inferred' });
    }
  }
  return out;
}

type Read = { ok: true; value: unknown } | { ok: false; why: string; hint?: boolean };

/** A CSV field's value under its column's type. */
function readCsvField(text: string, t: { type: ColType; how: How }): Read {
  if (t.type === 'string') return { ok: true, value: text };
  if (text === '') return { ok: true, value: null };
  if (t.how === 'inferred')
    return isPlainNumber(text)
      ? { ok: true, value: Number(text) }
      : { ok: false, why: `not plain number text: ${JSON.stringify(text)}`, hint: true };
  return NUMERIC_TEXT.test(text) ? { ok: true, value: Number(text) } : { ok: false, why: `not numeric text: ${JSON.stringify(text)}` };
}

/** A field of an NDJSON record: the property of that exact name, else the dotted path. */
export function fieldOf(record: unknown, name: string): unknown {
  if (record === null || typeof record !== 'object' || Array.isArray(record)) return undefined;
  if (Object.hasOwn(record, name)) return (record as Record<string, unknown>)[name];
  if (!name.includes('.')) return undefined;
  let v: unknown = record;
  for (const part of name.split('.')) {
    if (v === null || typeof v !== 'object' || Array.isArray(v) || !Object.hasOwn(v, part)) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Why a key is not one, or undefined when it is a key. */
function badKey(v: unknown): string | undefined {
  if (typeof v === 'string') return v.isWellFormed() ? undefined : 'an unpaired surrogate';
  if (finite(v)) return Number.isInteger(v) && !Number.isSafeInteger(v) ? 'an integer beyond ±(2^53 − 1)' : undefined;
  return `not a string or finite number: ${v === undefined ? 'missing' : JSON.stringify(v)}`;
}

/** Why a declared type refuses a value, or undefined. */
function badDeclared(v: unknown, t: ColType | undefined): string | undefined {
  if (t === 'number' && !finite(v)) return 'declared number';
  if (t === 'string' && typeof v !== 'string') return 'declared string';
  return undefined;
}

/** One group's running state per aggregation. */
class Group {
  count = 0;
  sums = new Map<string, number>();
  mins = new Map<string, unknown>();
  maxs = new Map<string, unknown>();
  firsts = new Map<string, unknown>();
  lasts = new Map<string, unknown>();
  collects = new Map<string, unknown[]>();
}

/** Checks a record's aggregated values; returns the first bad field, or the values to add. */
function checkAggs(
  aggs: Agg[],
  value: (field: string) => unknown,
  fieldType: (field: string) => ColType | undefined,
): { field: string; why: string } | undefined {
  for (const a of aggs) {
    if (a.op === 'count') continue;
    const v = value(a.field!);
    if (a.op === 'sum' || a.op === 'mean') {
      if (!finite(v)) return { field: a.field!, why: `${a.op} takes finite numbers` };
    } else if (a.op === 'min' || a.op === 'max') {
      if (fieldType(a.field!) === 'string' ? typeof v !== 'string' : !finite(v))
        return { field: a.field!, why: `${a.op} on a ${fieldType(a.field!) ?? 'untyped'} field` };
    }
  }
  return undefined;
}

function addRecord(g: Group, aggs: Agg[], value: (field: string) => unknown): void {
  g.count++;
  for (const a of aggs) {
    if (a.op === 'count') continue;
    const raw = value(a.field!);
    const v = raw === undefined ? null : raw;
    switch (a.op) {
      case 'sum':
      case 'mean':
        g.sums.set(a.name, (g.sums.get(a.name) ?? 0) + (v as number));
        break;
      case 'min':
        if (!g.mins.has(a.name) || (v as number) < (g.mins.get(a.name) as number)) g.mins.set(a.name, v);
        break;
      case 'max':
        if (!g.maxs.has(a.name) || (v as number) > (g.maxs.get(a.name) as number)) g.maxs.set(a.name, v);
        break;
      case 'first':
        if (!g.firsts.has(a.name)) g.firsts.set(a.name, v);
        break;
      case 'last':
        g.lasts.set(a.name, v);
        break;
      case 'collect':
        (g.collects.get(a.name) ?? g.collects.set(a.name, []).get(a.name)!).push(v);
        break;
    }
  }
}

function finishRow(key: string | number, g: Group, aggs: Agg[]): Row {
  const row: Row = { key };
  for (const a of aggs) {
    if (a.op === 'count') row[a.name] = g.count;
    else if (a.op === 'sum') row[a.name] = g.sums.get(a.name);
    else if (a.op === 'mean') row[a.name] = g.sums.get(a.name)! / g.count;
    else if (a.op === 'min') row[a.name] = g.mins.get(a.name);
    else if (a.op === 'max') row[a.name] = g.maxs.get(a.name);
    else if (a.op === 'first') row[a.name] = g.firsts.get(a.name);
    else if (a.op === 'last') row[a.name] = g.lasts.get(a.name);
    else row[a.name] = g.collects.get(a.name);
  }
  return row;
}

/** Rows in a fixed order: string keys before number keys, then by code units / value. */
export function sortRows<T extends { key: unknown }>(rows: T[]): T[] {
  const rank = (k: unknown) => (typeof k === 'string' ? 0 : 1);
  return [...rows].sort((a, b) => rank(a.key) - rank(b.key) || (a.key! < b.key! ? -1 : a.key! > b.key! ? 1 : 0));
}

/** A canonical text of a value (object keys sorted), to sort records for comparison. */
export function canon(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'undefined';
  if (Array.isArray(v)) return `[${v.map(canon).join(',')}]`;
  return `{${Object.keys(v)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canon((v as Record<string, unknown>)[k])}`)
    .join(',')}}`;
}
export function sortRecords(records: Record<string, unknown>[]): Record<string, unknown>[] {
  const keyed = records.map((r) => [canon(r), r] as const);
  keyed.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return keyed.map(([, r]) => r);
}

/** What the job must give, by docs/types.md. */
export function reference(job: Job): Outcome {
  const aggs = job.aggs ?? [];
  const groups = new Map<string | number, Group>();
  const records: Record<string, unknown>[] = [];
  const bad: Bad[] = [];
  const accept = (key: string | number, value: (f: string) => unknown) => {
    let g = groups.get(key);
    if (!g) groups.set(key, (g = new Group()));
    addRecord(g, aggs, value);
  };

  let columnTypes: Record<string, ColType> | undefined;
  if (job.format === 'csv') {
    const files = job.files.map((f) => ({ file: f, csv: parseCsv(fs.readFileSync(f, 'utf8')) }));
    const needed = [job.key, ...aggs.filter((a) => a.field !== undefined).map((a) => a.field!)];
    for (const { file, csv } of files)
      for (const field of needed) if (csv.header.filter((c) => c === field).length !== 1) return { kind: 'fatal', file, field }; // missing, or twice
    const types = csvColumnTypes(
      job,
      files.map((f) => f.csv),
    );
    columnTypes = Object.fromEntries([...types].map(([c, t]) => [c, t.type]));
    for (const { file, csv } of files) {
      rows: for (const r of csv.rows) {
        if (r.fields.length !== csv.header.length) {
          bad.push({ file, line: r.line, why: `${r.fields.length} fields where the header has ${csv.header.length}` });
          continue;
        }
        const values = new Map<string, unknown>();
        // a shuffle reads every column; groupBy the key and the aggregated fields
        const read = job.aggs ? [...new Set(needed)] : csv.header;
        for (const col of read) {
          const v = readCsvField(r.fields[csv.header.indexOf(col)]!, types.get(col)!);
          if (!v.ok) {
            bad.push({ file, line: r.line, field: col, why: v.why, ...(v.hint ? { hint: true } : {}) });
            continue rows;
          }
          values.set(col, v.value);
        }
        const key = values.get(job.key);
        const kb = badKey(key);
        if (kb) {
          bad.push({ file, line: r.line, field: job.key, why: kb });
          continue;
        }
        const b = checkAggs(
          aggs,
          (f) => values.get(f),
          (f) => types.get(f)!.type,
        );
        if (b) {
          bad.push({ file, line: r.line, ...b });
          continue;
        }
        if (job.aggs) accept(key as string | number, (f) => values.get(f));
        else records.push(Object.fromEntries(values));
      }
    }
  } else {
    for (const file of job.files) {
      let text = fs.readFileSync(file, 'utf8');
      if (text.startsWith('\uFEFF')) text = text.slice(1);
      const lines = text.split('\n');
      for (let i = 0; i < lines.length; i++) {
        const l = lines[i]!;
        if (/^[ \t\r]*$/.test(l)) continue; // JSON's whitespace
        const line = i + 1;
        let record: unknown;
        try {
          record = JSON.parse(l);
        } catch (e) {
          bad.push({ file, line, why: `not JSON: ${(e as Error).message}` });
          continue;
        }
        const key = fieldOf(record, job.key);
        const kb = badDeclared(key, job.types?.[job.key]) ?? badKey(key);
        if (kb) {
          bad.push({ file, line, field: job.key, why: kb });
          continue;
        }
        let declared: { field: string; why: string } | undefined;
        for (const a of aggs) {
          if (a.field === undefined) continue;
          const why = badDeclared(fieldOf(record, a.field), job.types?.[a.field]);
          if (why) {
            declared = { field: a.field, why };
            break;
          }
        }
        const b =
          declared ??
          checkAggs(
            aggs,
            (f) => fieldOf(record, f),
            (f) => job.types?.[f],
          );
        if (b) {
          bad.push({ file, line, ...b });
          continue;
        }
        if (job.aggs) accept(key as string | number, (f) => fieldOf(record, f));
        else records.push(record as Record<string, unknown>);
      }
    }
  }
  const rows = sortRows([...groups].map(([k, g]) => finishRow(k, g, aggs)));
  return { kind: 'ok', rows, records: sortRecords(records), bad, columnTypes };
}
