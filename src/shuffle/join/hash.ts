/**
 * The in-memory hash join of one partition (or sub-partition), in a worker thread: the build
 * side read whole into a table, the probe side streamed past it. Keys match as a JavaScript
 * `Map` compares them: `1` and `"1"` differ; `null` and a missing key never match (SQL).
 */
import { keeps, type JoinHow, type Side } from '../protocol.js';
import type { Emit } from './sink.js';

/** One side's records, in batches. */
export type Rows = AsyncIterable<unknown[]>;

/** What the join of a partition needs: each side's key function, which unmatched rows it keeps, where rows go. */
export interface JoinContext {
  keyOf: [(record: unknown) => unknown, (record: unknown) => unknown];
  how: JoinHow;
  emit: Emit;
}

/** Emits a row of `record` of side `side` alone: no match. */
export function emitAlone(ctx: JoinContext, side: Side, record: unknown, key: unknown): void {
  if (side === 0) ctx.emit(key, record, null);
  else ctx.emit(key, null, record);
}

/** A build side in memory: its records, and for each key the chain of its records (`next`, -1 ends it). */
export interface Table {
  records: unknown[];
  heads: Map<unknown, number>;
  next: Int32Array;
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
  const q: Side = b === 0 ? 1 : 0;
  const keyOf = ctx.keyOf[q];
  const alone = keeps(ctx.how, q);
  const { records, heads, next } = table;
  const { emit } = ctx;
  for await (const batch of rows) {
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
