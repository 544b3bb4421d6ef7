/**
 * A sort's splitters, in the coordinating thread: the P − 1 points that cut the key order
 * into P ranges of about equal record counts, picked from a sample of every split (sample
 * tasks in the workers, sort/sample.ts), and kept in the store (`tuple('splitters')`) before
 * any record is scattered, so a resumed job partitions by the same ranges as the run it resumes.
 */
import { tuple } from '../../keys.js';
import type { Lmdb } from '../../stores/lmdb/lmdb.js';
import { utf8 } from '../runtime/commits.js';
import type { Plan } from '../options.js';
import type { KeySpec, SampleResult, SampleTask } from '../protocol.js';
import { sendable } from '../runtime/outcome.js';
import type { WorkerPool } from '../runtime/pool.js';
import { withRetries } from '../runtime/retries.js';
import { describeSplit, type SplitSpec } from '../input/splits.js';
import { collated, comparePoints, type SortPoint } from './order.js';
import { drawPositions, splitRandom } from './draw.js';

/** Where a job's splitters are kept. */
export const splittersKey = () => tuple('splitters');

/** What the store keeps: the splitters, and how many points they were picked from. */
export interface Splitters {
  splitters: SortPoint[];
  sampled: number;
}

/**
 * Points drawn over the whole input: 256 per partition (each boundary is then placed from
 * about 256 points, within a few percent of its rank), at least 4,096, at most 262,144.
 */
export const sampleSize = (partitions: number) => Math.min(1 << 18, Math.max(1 << 12, 256 * partitions));

/** How much of the input a split holds, to share the sample out: records, or bytes of a file. */
function weight(spec: SplitSpec): number {
  if (spec.kind === 'range') return spec.end - spec.start;
  if (spec.kind === 'records') return spec.records.length;
  return spec.end - spec.start;
}

/** The kept splitters of a resumed job, if it has them. */
export async function keptSplitters(store: Lmdb): Promise<Splitters | undefined> {
  const bytes = await store.get(splittersKey());
  return bytes.length === 0 ? undefined : (JSON.parse(utf8(bytes)) as Splitters);
}

/** Keeps the splitters in the store (before the first commit: a job that has commits has its splitters). */
export async function keepSplitters(store: Lmdb, s: Splitters): Promise<void> {
  await store.append([[splittersKey(), Buffer.from(JSON.stringify(s))]]);
}

/**
 * Samples every split in the workers (each task retried as a gather task is) and picks the
 * splitters; `onSplit` is called as each split's sample arrives.
 */
export async function sampleSplitters(
  p: Plan,
  pool: WorkerPool,
  splits: SplitSpec[],
  descending: boolean,
  stats: { retried: number },
  onSplit: (done: number) => void,
): Promise<Splitters> {
  const total = splits.reduce((n, s) => n + weight(s), 0);
  const wanted = sampleSize(p.partitions);
  let done = 0;
  const results = await Promise.all(
    splits.map((split) => {
      const samples = total === 0 ? 0 : Math.ceil((wanted * weight(split)) / total);
      const task = sampleTask(split, p.key, samples);
      return withRetries(p, pool, `the sample of ${describeSplit(split)}`, stats, (attempt) =>
        pool.run<SampleResult>('sample', { ...task, attempt, faults: p.faults } satisfies SampleTask, { timeoutMs: p.taskTimeout }),
      ).then((r) => (onSplit(++done), r));
    }),
  );
  return pickSplitters(results, p.partitions, descending);
}

/** A split's sample task; a records batch is drawn from here, and only the records drawn (those that can be sent) go. */
function sampleTask(split: SplitSpec, key: KeySpec, samples: number): Omit<SampleTask, 'attempt'> {
  if (split.kind !== 'records') return { split, key, samples };
  const positions = drawPositions(split.records.length, samples, splitRandom(split.index)).filter((i) => sendable(split.records[i]));
  const records = positions.map((i) => split.records[i]);
  return { split: { kind: 'records', index: split.index, records }, key, samples, drawn: { positions, of: split.records.length } };
}

/**
 * The P − 1 splitters: the points at ranks 1/P, 2/P, … of the sample, each point weighing the
 * records of its split it stands for (a split's records over its points drawn), so splits of
 * different sizes count as they should. Points of one key differ by their ordinal, so a key
 * held by many records is cut between partitions too. Fewer points than P: some ranges are empty.
 */
export function pickSplitters(results: SampleResult[], partitions: number, descending: boolean): Splitters {
  const dir = descending ? -1 : 1;
  const points: { key: ReturnType<typeof collated>; point: SortPoint; weight: number }[] = [];
  for (const r of results) {
    const w = r.points.length === 0 ? 0 : r.records / r.points.length;
    for (const point of r.points) points.push({ key: collated(point[0]), point, weight: w });
  }
  if (points.length === 0 || partitions === 1) return { splitters: [], sampled: points.length };
  points.sort((a, b) => comparePoints(dir, a.key, a.point[1], b.key, b.point[1]));
  const total = points.reduce((n, x) => n + x.weight, 0);
  const splitters: SortPoint[] = [];
  let i = 0;
  let below = points[0]!.weight;
  for (let s = 1; s < partitions; s++) {
    const rank = (s * total) / partitions;
    while (below < rank && i < points.length - 1) below += points[++i]!.weight;
    splitters.push(points[i]!.point);
  }
  return { splitters, sampled: points.length };
}
