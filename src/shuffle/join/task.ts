/**
 * A join's gather task, in a worker thread: each of its units (join/units.ts) joins side 0's
 * and side 1's partition p (store keys p and P + p, read-only) into a file of rows of the
 * attempt's own (join/sink.ts): whole partitions by hash join, or by grace hash join when
 * their smaller side is more than the task may hold (join/grace.ts); a slice of a skewed
 * partition's larger side against its whole build side; a sliced partition's build rows
 * that no slice matched; or a split of the probe side against the whole build side (broadcast).
 */
import { FrameReader } from '../../layers/frames.js';
import type { Msgpack } from '../../layers/values.js';
import type { Lmdb } from '../../stores/lmdb/lmdb.js';
import { trigger } from '../runtime/faults.js';
import type { GatherTask, JoinReduce, JoinUnit, JoinUnitResult, Side } from '../protocol.js';
import { keyFunction } from '../scatter/record-key.js';
import { broadcastUnit } from './broadcast-unit.js';
import { joinPart, type GraceContext } from './grace.js';
import { buildTable, emitUnmatched, probe, type Batch, type Rows } from './hash.js';
import { RowSink } from './sink.js';

/** The shuffle's store as a gather task opens it: raw (for a slice's frames) and through Msgpack. */
export interface ShuffleStore {
  raw: Lmdb;
  codec: Msgpack;
}

/** Runs a join gather task: each unit's result, in task order. */
export async function joinTask(task: GatherTask, store: ShuffleStore): Promise<[number, JoinUnitResult][]> {
  const reduce = task.reduce as JoinReduce;
  const keyOf: GraceContext['keyOf'] = [await keyFunction(reduce.keys[0]), await keyFunction(reduce.keys[1])];
  const out: [number, JoinUnitResult][] = [];
  for (const id of task.partitions) {
    const sink = new RowSink(reduce.dir, reduce.format, `unit-${id}-attempt-${task.attempt}`);
    const ctx: GraceContext = {
      keyOf,
      how: reduce.how,
      emit: sink.add,
      // rows for join(): a probe side's stored frames go as they are, its keys with them unless the coordinator reads them (a field)
      probed: reduce.format === 'msgpack' ? sink.probed : undefined,
      sendKeys: [!('field' in reduce.keys[0]), !('field' in reduce.keys[1])],
      limit: reduce.limit,
      dir: reduce.dir,
      resplits: 0,
    };
    try {
      const made = await runUnit(task, reduce, reduce.units[id]!, store, ctx);
      out.push([id, { file: sink.close(), rows: sink.rows, resplits: ctx.resplits, ...made }]);
    } catch (e) {
      sink.discard();
      throw e;
    }
  }
  return out;
}

async function runUnit(
  task: GatherTask,
  reduce: JoinReduce,
  unit: JoinUnit,
  store: ShuffleStore,
  ctx: GraceContext,
): Promise<Pick<JoinUnitResult, 'matched' | 'read'>> {
  const P = reduce.partitions;
  /** Side `side`'s partition p, its batches counted for fault injection (`fault(n)` after n batches). */
  const stored = (side: Side, p: number, fault: () => void, slice: [number, number] = [0, 1]): Rows =>
    counted(frames(store, side * P + p, slice), fault);
  const faultOf = (p: number) => {
    const fault = trigger(task.faults, 'gather', { partition: p, attempt: task.attempt });
    fault(0);
    let n = 0;
    return () => fault(++n);
  };
  if (unit.kind === 'whole') {
    for (const [p, left, right] of unit.parts) {
      const fault = faultOf(p);
      await joinPart(ctx, [() => stored(0, p, fault), () => stored(1, p, fault)], [left, right], 0, `partition ${p}`);
    }
    return {};
  }
  if (unit.kind === 'broadcast') {
    const base = unit.build * P;
    const whole = async function* () {
      for (let p = 0; p < P; p++) yield* frames(store, base + p, [0, 1]);
    };
    return { read: await broadcastUnit(task, reduce, unit, ctx, whole, store.codec.encode) };
  }
  const b = unit.build;
  const fault = faultOf(unit.partition);
  const table = await buildTable(ctx, b, stored(b, unit.partition, fault));
  if (unit.kind === 'unmatched') {
    emitUnmatched(ctx, b, table.records, unit.matched);
    return {};
  }
  // A slice: the build side's unmatched rows are the unmatched unit's, once every slice has marked its matches.
  const matched = new Uint8Array(table.records.length);
  await probe(ctx, b, table, stored(b === 0 ? 1 : 0, unit.partition, fault, [unit.slice, unit.of]), matched);
  return { matched };
}

/**
 * Store key `key`'s frames number slice, slice + of, slice + 2·of, … (all of them: [0, 1]),
 * each decoded, with its stored bytes (the others only framed, never decoded).
 */
async function* frames(store: ShuffleStore, key: number, [slice, of]: [number, number]): AsyncGenerator<Batch> {
  const reader = new FrameReader(`key ${key}`);
  let n = 0;
  for await (const piece of store.raw.iterate(key)) {
    for (const payload of reader.push(piece)) {
      if (n++ % of !== slice) continue;
      const batch: Batch = store.codec.decode(payload);
      batch.payload = payload;
      yield batch;
    }
  }
  reader.end();
}

async function* counted(rows: Rows, each: () => void): AsyncGenerator<Batch> {
  for await (const batch of rows) {
    yield batch;
    each();
  }
}
