/**
 * A broadcast unit, in a gather worker thread: one split of the probe side read from its input,
 * as a scatter session reads it, and streamed past the whole build side (join/broadcast.ts), so
 * the probe side is never shuffled. The build side is read from the store into a table once per
 * thread for all of a join run's units (the run's directory names it): threads live for one job.
 * Its records never go in a row file: the coordinator reads them from the store in the same order
 * (join/broadcast.ts), and probed frames point into that copy.
 */
import { BadRecordError } from '../../errors.js';
import { locate } from '../input/locate.js';
import { readSplit } from '../input/read.js';
import { originOf } from '../input/splits.js';
import type { GatherTask, JoinReduce, JoinUnit, JoinUnitResult, Side } from '../protocol.js';
import { trigger } from '../runtime/faults.js';
import { joinKeyMisfit, keyThrew } from '../scatter/record-key.js';
import { buildTable, probeBatch, type Batch, type JoinContext, type Rows, type Table } from './hash.js';

/** Probe records per batch: a probed frame's (join/probed.ts), as a scatter session frames them. */
const BATCH = 256;

let cache: { dir: string; table: Promise<Table> } | undefined;

/** The build side's table of the run `reduce` belongs to: read by the thread's first unit of the run. */
async function tableOf(ctx: JoinContext, reduce: JoinReduce, build: Side, rows: () => Rows): Promise<Table> {
  if (cache?.dir !== reduce.dir) cache = { dir: reduce.dir, table: buildTable(ctx, build, rows()) };
  const mine = cache;
  try {
    return await mine.table;
  } catch (e) {
    if (cache === mine) cache = undefined; // the next attempt reads it afresh
    throw e;
  }
}

/**
 * Joins a broadcast unit's split against the build side (`buildRows`: all of its partitions):
 * its records joined and bad ones skipped, and the build records its table holds. `encode`
 * makes a batch's bytes as the store would hold them, for probed frames.
 */
export async function broadcastUnit(
  task: GatherTask,
  reduce: JoinReduce,
  unit: Extract<JoinUnit, { kind: 'broadcast' }>,
  ctx: JoinContext,
  buildRows: () => Rows,
  encode: (batch: unknown[]) => Uint8Array,
): Promise<NonNullable<JoinUnitResult['read']>> {
  const { build, split } = unit;
  const q: Side = build === 0 ? 1 : 0;
  const held = await tableOf(ctx, reduce, build, buildRows);
  held.flat ??= new Uint8Array(held.records.length); // shared by the units: each record checked once
  const table: Table = { ...held, sent: true }; // the coordinator holds the records
  const counts = { records: 0, bad: 0, built: held.records.length };
  const keyOf = ctx.keyOf[q];
  const spec = reduce.keys[q];
  const typed = 'field' in spec && spec.type !== undefined;
  const fault = trigger(task.faults, 'read', { split: split.index, attempt: task.attempt });
  let batch: Batch = [];
  const flush = () => {
    if (batch.length === 0) return;
    if (ctx.probed) batch.payload = encode(batch);
    probeBatch(ctx, build, table, batch);
    batch = [];
  };
  const refuse = (error: BadRecordError) => {
    if (reduce.onBadRecord === 'error') throw error;
    counts.bad++;
  };
  const bad = (message: string, pos: number, at?: number) => {
    const error = new BadRecordError(message);
    error.origin = originOf(split, pos, at);
    refuse(error);
  };
  try {
    await readSplit(split, {
      record: (record, pos, at) => {
        fault(pos);
        let key: unknown;
        try {
          key = keyOf(record);
        } catch (e) {
          return bad(keyThrew(e), pos, at);
        }
        // as a join's scatter checks keys (scatter/placement.ts): strings only when a type is declared
        const why = typeof key === 'string' && !typed ? undefined : joinKeyMisfit(key, spec);
        if (why !== undefined) return bad(why, pos, at);
        counts.records++;
        batch.push(record);
        if (batch.length >= BATCH) flush();
      },
      bad: refuse,
    });
    flush();
  } catch (e) {
    if (e instanceof BadRecordError && e.origin) e.message = `${await locate(split, e.origin, q)}: ${e.message}`;
    throw e;
  }
  return counts;
}
