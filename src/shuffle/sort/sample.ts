/**
 * A sort's sample of one split, in a worker thread (the task `sample`): `samples` points
 * (key, ordinal) drawn uniformly from the split's records, from which the coordinator picks
 * the splitters (sort/splitters.ts). A range input (`generate`, `make`) is read only at the
 * drawn positions, as it can be entered anywhere; a file is read whole, reservoir-sampled
 * (Algorithm R), with the key computed only for the records drawn; a records batch comes as
 * the records the coordinator drew from it. Records without a usable key are left out: the
 * scatter phase reports them, with file and line. The draws are seeded by the split's index,
 * so a re-run draws the same sample.
 */
import { ordinal } from '../groupby/aggregations.js';
import { readSplit } from '../input/read.js';
import type { SplitSpec } from '../input/splits.js';
import type { SampleResult, SampleTask } from '../protocol.js';
import { loadRef } from '../runtime/modules.js';
import { keyFunction } from '../scatter/record-key.js';
import type { SortKey, SortPoint } from './order.js';
import { sortKeyMisfit } from './sort-key.js';
import { drawPositions, splitRandom } from './draw.js';
import { trigger } from '../runtime/faults.js';

/** Draws the sample of one split. */
export async function sample(task: SampleTask): Promise<SampleResult> {
  trigger(task.faults, 'sample', { split: task.split.index, attempt: task.attempt })(0); // fault injection (tests)
  const keyOf = await keyFunction(task.key);
  const random = splitRandom(task.split.index);
  const index = task.split.index;
  /** The record's point, or undefined when its key is not usable (its error is the scatter's to report). */
  const pointOf = (record: unknown, position: number): SortPoint | undefined => {
    let key: unknown;
    try {
      key = keyOf(record);
    } catch {
      return undefined;
    }
    return sortKeyMisfit(key, task.key) === undefined ? [key as SortKey, ordinal(index, position)] : undefined;
  };
  const split = task.split;
  if (split.kind === 'range') return sampleRange(split, task.samples, random, pointOf);
  if (task.drawn) {
    // a records batch's draws, made in the coordinator (sending the whole batch twice would cost more)
    const points: SortPoint[] = [];
    if (split.kind === 'records')
      split.records.forEach((record, i) => {
        const point = pointOf(record, task.drawn!.positions[i]!);
        if (point) points.push(point);
      });
    return { points, records: task.drawn.of };
  }
  const reservoir: SortPoint[] = [];
  let seen = 0;
  await readSplit(split, {
    record: (record, position) => {
      const slot = seen < task.samples ? seen : Math.floor(random() * (seen + 1));
      seen++;
      if (slot >= task.samples) return;
      const point = pointOf(record, position);
      if (point === undefined) return;
      if (slot < reservoir.length) reservoir[slot] = point;
      else reservoir.push(point);
    },
    bad: () => undefined,
  });
  return { points: reservoir, records: seen };
}

/** Calls of a generator per split at most: a generator may cost much to start (open a cursor, say), so it reads windows of records. */
const MAX_WINDOWS = 64;

/**
 * A range split read at `samples` positions drawn uniformly: one `make(i)` call each, or, for a
 * generator, up to MAX_WINDOWS windows of consecutive records (distinct slots drawn uniformly).
 */
async function sampleRange(
  split: Extract<SplitSpec, { kind: 'range' }>,
  samples: number,
  random: () => number,
  pointOf: (record: unknown, position: number) => SortPoint | undefined,
): Promise<SampleResult> {
  const n = split.end - split.start;
  const points: SortPoint[] = [];
  const take = (record: unknown, position: number) => {
    const point = pointOf(record, position);
    if (point) points.push(point);
  };
  if (split.perIndex) {
    const make = await loadRef<(i: number) => unknown>(split.generator);
    for (const p of drawPositions(n, samples, random)) take(make(split.start + p), p);
    return { points, records: n };
  }
  const gen = await loadRef<(start: number, end: number) => Iterable<unknown>>(split.generator);
  if (n === 0 || samples === 0) return { points, records: n };
  const width = samples >= n ? n : Math.ceil(samples / MAX_WINDOWS); // the whole split in one call when it is all drawn
  for (const slot of drawPositions(Math.floor(n / width), Math.ceil(samples / width), random)) {
    let p = slot * width;
    for (const record of gen(split.start + p, split.start + p + width)) take(record, p++);
  }
  return { points, records: n };
}
