/** `groupBy`: a shuffle whose gather phase reduces each partition by key. */
import { gatherPhase, plan, planAggregations, scatterPhase, type GroupByOptions, type ShuffleStats } from './coordinator.js';
import { WorkerPool } from './pool.js';
import { aggregator } from './reducers.js';

/** One group's row: its key and one column per aggregation. */
export type GroupRow = { key: string | number } & Record<string, unknown>;

/** The groups, keyed by group key, with the shuffle's counts. */
export class Groups extends Map<string | number, GroupRow> {
  /** Counts of the scatter phase. */
  stats?: ShuffleStats;
}

/**
 * Groups the input by key, as an async iterable of `[key, row]` (partition by partition as
 * they finish). When every aggregation can merge partial results (all built-ins do), scatter
 * workers combine their records per key first, so only partial states cross the shuffle.
 */
export async function* iterateGroups<T = unknown>(options: GroupByOptions<T>, onStats?: (s: ShuffleStats) => void): AsyncGenerator<[string | number, GroupRow]> {
  const aggs = await planAggregations(options?.aggregate);
  const p = await plan(options as GroupByOptions);
  const combine = (await aggregator(aggs)).mergeable;
  const pool = new WorkerPool(p.workers); // one pool for both phases: threads start once
  try {
    const stats = await scatterPhase(p, pool, { plan: aggs, combine }); // not inside `onStats?.(…)`: that would skip it
    onStats?.(stats);
    for await (const [, pairs] of gatherPhase<[string | number, GroupRow][]>(p, pool, { kind: 'groupBy', plan: aggs, combined: combine })) yield* pairs;
  } finally {
    await pool.close();
    // A temporary store goes; a store the caller named stays for inspection.
    if (p.ownsStore && !p.store.closed) {
      if (options.store === undefined) await p.store.drop();
      await p.store.close();
    }
  }
}

/** Groups the input by key into a `Map` of rows (see `iterateGroups`). */
export async function groupBy<T = unknown>(options: GroupByOptions<T>): Promise<Groups> {
  const groups = new Groups();
  for await (const [key, row] of iterateGroups(options, (s) => (groups.stats = s))) groups.set(key, row);
  return groups;
}
