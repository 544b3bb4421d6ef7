/** The gather worker: reads one partition and reduces it. */
import { loadRef, type ResolvedRef } from './modules.js';
import { aggregator, type PlannedAgg } from './reducers.js';
import { trigger, type Fault } from './faults.js';
import { openShuffleStore } from './scatter.js';

/** A custom gather reducer: the partition's record batches in, any structured-clonable value out. */
export type PartitionReducer<T = unknown, R = unknown> = (batches: AsyncIterable<T[]>, partition: number) => R | Promise<R>;

/** One gather task. */
export interface GatherTask {
  store: string;
  partition: number;
  reduce: { kind: 'groupBy'; plan: PlannedAgg[]; combined: boolean } | { kind: 'module'; ref: ResolvedRef };
  attempt: number;
  /** Test-only fault injection (faults.ts). */
  faults?: Fault[];
}

async function* counted<T>(batches: AsyncIterable<T>, each: (n: number) => void): AsyncGenerator<T> {
  let n = 0;
  for await (const b of batches) {
    yield b;
    each(++n);
  }
}

/** Runs one gather task; groupBy returns `[key, row]` pairs. */
export async function gather(task: GatherTask): Promise<unknown> {
  const { codec } = openShuffleStore(task.store);
  const fault = trigger(task.faults, 'gather', { partition: task.partition, attempt: task.attempt });
  fault(0);
  const batches = counted(codec.iterate(task.partition), fault);
  if (task.reduce.kind === 'module') {
    const fn = await loadRef<PartitionReducer>(task.reduce.ref);
    return fn(batches, task.partition);
  }
  const agg = await aggregator(task.reduce.plan);
  const groups = new Map<unknown, unknown[]>();
  for await (const batch of batches) {
    if (task.reduce.combined) {
      for (const [key, states] of batch as [unknown, unknown[]][]) {
        const have = groups.get(key);
        if (have === undefined) groups.set(key, states);
        else agg.merge(have, states);
      }
    } else {
      for (const [key, ord, record] of batch as [unknown, number, unknown][]) {
        const have = groups.get(key);
        if (have === undefined) groups.set(key, agg.init(record, ord));
        else agg.add(have, record, ord);
      }
    }
  }
  return Array.from(groups, ([key, states]) => [key, { key, ...agg.finish(states) }]);
}
