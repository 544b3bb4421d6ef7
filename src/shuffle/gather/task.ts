/** The gather task, in a worker thread: reads a batch of partitions and reduces each one (a sort's: sort/partition.ts; a join's units: join/task.ts). */
import { loadRef } from '../runtime/modules.js';
import { groupsOf, type StateBlock } from '../groupby/groups.js';
import { loadReducers, type CustomReducer } from '../groupby/aggregations.js';
import { trigger } from '../runtime/faults.js';
import { groupLines } from '../groupby/rows.js';
import { keysOf, packColumns, type GatherTask, type PackedColumns, type PartitionReducer } from '../protocol.js';
import { Msgpack } from '../../layers/values.js';
import { Lmdb } from '../../stores/lmdb/lmdb.js';
import { Dict } from '../../stores/dict.js';
import { sendError, sendable, whyUnsendable } from '../runtime/outcome.js';
import { joinTask } from '../join/task.js';
import { sortPartition } from '../sort/partition.js';

const stores = new Map<string, { raw: Lmdb; codec: Msgpack }>();
/** The store at `path`, opened once per thread. */
function openShuffleStore(path: string): { raw: Lmdb; codec: Msgpack } {
  let s = stores.get(path);
  if (!s) {
    // Read-only: workers never write (commits go through the coordinator, see scatter/session.ts).
    const raw = new Lmdb(path, { readOnly: true });
    s = { raw, codec: new Msgpack(raw) };
    stores.set(path, s);
  }
  return s;
}

/** Where the task's `i`th partition is read: the store at its path, or the bytes the task brought (a distributed job's blocks). */
async function source(task: GatherTask, i: number): Promise<{ codec: Msgpack }> {
  if (!task.chunks) return openShuffleStore(task.store);
  const dict = new Dict();
  await dict.append(new Map([[task.partitions[i]!, Buffer.concat(task.chunks[i]!)]])); // a Map: an object's keys are strings
  return { codec: new Msgpack(dict) };
}

async function* counted<T>(batches: AsyncIterable<T>, each: (n: number) => void): AsyncGenerator<T> {
  let n = 0;
  for await (const b of batches) {
    yield b;
    each(++n);
  }
}

/** Runs one gather task: each partition's result, in task order (groupBy results are `PackedColumns`; a join's, `JoinUnitResult`s). */
export async function gather(task: GatherTask): Promise<[number, unknown][]> {
  if (task.reduce.kind === 'join') return joinTask(task, openShuffleStore(task.store));
  const reducers = task.reduce.kind === 'groupBy' ? await loadReducers(task.reduce.plan) : undefined; // once per task, not per partition
  const out: [number, unknown][] = [];
  for (const [i, partition] of task.partitions.entries()) out.push([partition, await gatherOne(task, i, reducers)]);
  return out;
}

async function gatherOne(task: GatherTask, i: number, reducers: (CustomReducer | undefined)[] | undefined): Promise<unknown> {
  const partition = task.partitions[i]!;
  const fault = trigger(task.faults, 'gather', { partition, attempt: task.attempt });
  fault(0);
  if (task.reduce.kind === 'sort') return sortPartition(openShuffleStore(task.store).raw, partition, task.reduce, task.attempt, fault);
  const { codec } = await source(task, i);
  const batches = counted(codec.iterate(partition), fault);
  if (task.reduce.kind === 'module') {
    const fn = await loadRef<PartitionReducer>(task.reduce.ref);
    return fn(batches, partition);
  }
  const { plan, combined, lines } = task.reduce as Extract<GatherTask['reduce'], { kind: 'groupBy' }>; // a join's task is joinTask()
  const groups = groupsOf(plan, reducers!);
  for await (const batch of batches) {
    if (combined) for (const block of batch as StateBlock[]) groups.merge(block);
    else for (const [key, ord, record] of batch as [string | number, number, unknown][]) groups.add(key, record, ord);
  }
  const packed = packColumns(groups.result());
  return lines
    ? groupLines(
        packed,
        plan.map((a) => a.name),
      )
    : packed; // the lines made here, in parallel, not by the calling thread
}

/**
 * Why a task's results cannot be sent to the coordinator, naming the partition (and for a
 * groupBy, the aggregation and key): run only once serialising them failed.
 */
export function unsendable(task: GatherTask, results: [number, unknown][]): Error {
  const cannot = 'cannot be sent between threads';
  for (const [partition, value] of results) {
    if (sendable(value)) continue;
    if (task.reduce.kind !== 'groupBy')
      return sendError(`partition ${partition}: the gather reducer returned a value that ${cannot} (${whyUnsendable(value)})`);
    const keys = keysOf(value as PackedColumns);
    for (const [j, column] of (value as PackedColumns).columns.entries()) {
      if (!Array.isArray(column)) continue;
      const i = column.findIndex((v) => !sendable(v));
      if (i >= 0)
        return sendError(
          `partition ${partition}: aggregation "${task.reduce.plan[j]!.name}" gave key ${JSON.stringify(keys[i])} a value that ${cannot} (${whyUnsendable(column[i])})`,
        );
    }
  }
  return sendError(`partitions ${task.partitions.join(', ')}: the results ${cannot}`);
}
