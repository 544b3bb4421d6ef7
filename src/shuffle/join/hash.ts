/**
 * The in-memory hash join of one partition (or sub-partition), in a worker thread: the build
 * side read whole into a table, the probe side streamed past it. Keys match as a JavaScript
 * `Map` compares them: `1` and `"1"` differ; `null` and a missing key never match (SQL).
 */
import { keeps, type JoinHow, type Side } from '../protocol.js';
import { PROBED, TABLE, type ProbedFrame, type TableFrame } from './probed.js';
import type { Emit } from './sink.js';

/** A batch of one side's records: a stored frame's records carry its stored bytes (join/probed.ts). */
export type Batch = unknown[] & { payload?: Uint8Array };

/** One side's records, in batches. */
export type Rows = AsyncIterable<Batch>;

/**
 * What the join of a partition needs: each side's key function, which unmatched rows it keeps,
 * where rows go; and where probed frames go (`probed`, with `sendKeys` of each side: whether its
 * keys go with them, for a key the coordinator cannot read from the record), when rows go as
 * MessagePack.
 */
export interface JoinContext {
  keyOf: [(record: unknown) => unknown, (record: unknown) => unknown];
  how: JoinHow;
  emit: Emit;
  probed?: ((frame: ProbedFrame | TableFrame, rows: number) => void) | undefined;
  sendKeys?: [boolean, boolean];
}

/** Emits a row of `record` of side `side` alone: no match. */
export function emitAlone(ctx: JoinContext, side: Side, record: unknown, key: unknown): void {
  if (side === 0) ctx.emit(key, record, null);
  else ctx.emit(key, null, record);
}

/**
 * A build side in memory: its records, and for each key the chain of its records (`next`, -1
 * ends it); for probed frames, whether each record is flat (`flat`: 0 not known yet, 1 yes,
 * 2 no) and whether the records were sent (`sent`).
 */
export interface Table {
  records: unknown[];
  heads: Map<unknown, number>;
  next: Int32Array;
  flat?: Uint8Array;
  sent?: boolean;
}

/** A plain object whose values are not objects: its copy (`{ ...record }`) is a row's record of its own. */
function isFlat(record: unknown): boolean {
  if (record === null || typeof record !== 'object' || Object.getPrototypeOf(record) !== Object.prototype) return false;
  for (const k in record) {
    const v = (record as Record<string, unknown>)[k];
    if (v !== null && typeof v === 'object') return false;
  }
  return true;
}

/** Reads the build side `b` into a table. */
export async function buildTable(ctx: JoinContext, b: Side, rows: Rows): Promise<Table> {
  const keyOf = ctx.keyOf[b];
  const records: unknown[] = [];
  const heads = new Map<unknown, number>();
  let next = new Int32Array(1024);
  for await (const batch of rows) {
    for (const record of batch) {
      const i = records.length;
      records.push(record);
      if (i >= next.length) {
        const grown = new Int32Array(next.length * 2);
        grown.set(next);
        next = grown;
      }
      const key = keyOf(record);
      if (key == null) {
        next[i] = -1; // never matches: reached by the unmatched pass alone
        continue;
      }
      next[i] = heads.get(key) ?? -1;
      heads.set(key, i);
    }
  }
  return { records, heads, next };
}

/**
 * Streams the probe side (the other side than `b`) past the table: a row per match, a row of
 * the probe record alone when it has none and `how` keeps that side. Marks matched build
 * records in `matched` (one byte each) when given.
 */
export async function probe(ctx: JoinContext, b: Side, table: Table, rows: Rows, matched?: Uint8Array): Promise<void> {
  for await (const batch of rows) probeBatch(ctx, b, table, batch, matched);
}

/** Streams one batch of the probe side past the table (see `probe`): as a probed frame when it carries its stored bytes and that pays. */
export function probeBatch(ctx: JoinContext, b: Side, table: Table, batch: Batch, matched?: Uint8Array): void {
  const q: Side = b === 0 ? 1 : 0;
  if (batch.payload && ctx.probed && probeFrame(ctx, q, table, batch, batch.payload, matched)) return;
  const keyOf = ctx.keyOf[q];
  const alone = keeps(ctx.how, q);
  const { records, heads, next } = table;
  const { emit } = ctx;
  for (const record of batch) {
    const key = keyOf(record);
    const head = key == null ? undefined : heads.get(key);
    if (head === undefined) {
      if (alone) emitAlone(ctx, q, record, key);
      continue;
    }
    for (let i = head; i >= 0; i = next[i]!) {
      if (b === 0) emit(key, records[i], record);
      else emit(key, record, records[i]);
      if (matched) matched[i] = 1;
    }
  }
}

/**
 * A stored frame of probe side `q` as a probed frame (join/probed.ts): its records with one
 * flat match or none go by count (the table's records sent first, once), the others' rows as
 * ordinary rows. Not done (false, nothing emitted) when fewer than half its records would go
 * by count: the frame is then not worth sending whole.
 */
function probeFrame(ctx: JoinContext, q: Side, table: Table, batch: Batch, payload: Uint8Array, matched?: Uint8Array): boolean {
  const keyOf = ctx.keyOf[q];
  const alone = keeps(ctx.how, q);
  const { records, heads, next } = table;
  const flat = (table.flat ??= new Uint8Array(records.length));
  const single = (i: number) => next[i]! < 0 && (flat[i] ||= isFlat(records[i]) ? 1 : 2) === 1;
  const first = new Int32Array(batch.length); // each record's first match, or -1
  let singles = 0;
  for (let r = 0; r < batch.length; r++) {
    const key = keyOf(batch[r]);
    const head = key == null ? -1 : (heads.get(key) ?? -1);
    first[r] = head;
    if (head >= 0 ? single(head) : alone) singles++;
  }
  if (singles * 2 < batch.length) return false;
  const counts = new Array<number>(batch.length);
  const builds: number[] = [];
  const keys = ctx.sendKeys![q] ? new Array<unknown>(batch.length) : null;
  for (let r = 0; r < batch.length; r++) {
    const head = first[r]!;
    if (keys) keys[r] = head >= 0 || alone ? keyOf(batch[r]) : null;
    if (head < 0) {
      counts[r] = alone ? 0 : -1;
      continue;
    }
    if (matched) for (let i = head; i >= 0; i = next[i]!) matched[i] = 1;
    if (single(head)) {
      counts[r] = 1;
      builds.push(head);
      continue;
    }
    counts[r] = -1; // several matches, or one not flat: ordinary rows, each with its own copy of the records
    const key = keyOf(batch[r]);
    for (let i = head; i >= 0; i = next[i]!) {
      if (q === 1) ctx.emit(key, records[i], batch[r]);
      else ctx.emit(key, batch[r], records[i]);
    }
  }
  if (!table.sent) ctx.probed!([TABLE, records], 0);
  table.sent = true;
  ctx.probed!([PROBED, q, payload, counts, builds, keys], singles);
  return true;
}

/** Emits the build records not marked in `matched` (keyless ones included), each alone. */
export function emitUnmatched(ctx: JoinContext, b: Side, records: unknown[], matched: Uint8Array): void {
  const keyOf = ctx.keyOf[b];
  for (let i = 0; i < records.length; i++) if (matched[i] === 0) emitAlone(ctx, b, records[i], keyOf(records[i]));
}

/** The whole hash join of a (sub-)partition: build side `b` into memory, the other streamed; unmatched rows as `how` keeps them. */
export async function hashJoin(ctx: JoinContext, b: Side, build: Rows, probeRows: Rows): Promise<void> {
  const table = await buildTable(ctx, b, build);
  const keepBuild = keeps(ctx.how, b);
  const matched = keepBuild ? new Uint8Array(table.records.length) : undefined;
  await probe(ctx, b, table, probeRows, matched);
  if (matched) emitUnmatched(ctx, b, table.records, matched);
}
