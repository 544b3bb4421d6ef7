/**
 * A join's gather, planned in the coordinator from the partition sizes the scatter committed
 * (join/sizes.ts): which partitions each task joins, and which partitions are skewed.
 *
 * - A partition with nothing to make (an empty side whose other side `how` does not keep) gets
 *   no task at all.
 * - Partitions are batched into tasks of about `target` bytes: the input over
 *   TASKS_PER_THREAD tasks per thread, so the threads end together.
 * - **Skew.** A partition whose larger (probe) side alone is more than a task's share — one
 *   key holding a large part of a side puts it there — while its smaller (build) side fits in
 *   a task's memory, is cut into slices: each slice task holds the whole build side and streams
 *   every m-th frame of the probe side, so m threads share the heavy partition. The build side
 *   is replicated m times; its rows that no slice matched are made by one more unit once the
 *   slices are done (`unmatchedUnits`), from the slices' marks.
 */
import type { GatherBatch } from '../gather/phase.js';
import { keeps, type JoinHow, type JoinUnit, type JoinUnitResult, type Side } from '../protocol.js';

/** Tasks per thread: enough to balance the threads, few enough that each is worth its round trip. */
const TASKS_PER_THREAD = 4;
/** A task's bytes at least: below this, splitting costs more than it saves. */
const MIN_TASK_BYTES = 64 << 10;
/** Slices of one skewed partition at most. */
const MAX_SLICES = 64;
/** Heap bytes a build side takes in a table per byte it is stored in (records as objects, the map, the chains). */
const EXPANSION = 8;
/** The least build side a task holds whatever `memory` says: below it, re-splitting costs more than it saves. */
const MIN_LIMIT = 16 << 10;

/** Stored bytes of one build side a task may hold in memory: its thread's share of `memory`, over EXPANSION. */
export function buildLimit(memory: number, threads: number): number {
  return Math.max(MIN_LIMIT, Math.floor(memory / threads / EXPANSION));
}

/** The first round of a join's gather: its units, their tasks, and the skewed partitions' slices. */
export interface UnitPlan {
  units: JoinUnit[];
  batches: GatherBatch[];
  /** Partitions cut into slices, and the slices. */
  skewed: number;
  slices: number;
  /** A sliced partition's build side, when `how` keeps its unmatched rows: the slices' marks are ORed for the second round. */
  pending: Map<number, { build: Side; matched?: Uint8Array }>;
}

/** Plans the units of the first round from each side's partition sizes, for `threads` threads whose tasks hold `limit` bytes of a build side. */
export function planUnits(sizes: [Float64Array, Float64Array], how: JoinHow, threads: number, limit: number): UnitPlan {
  const [L, R] = sizes;
  const total = L.reduce((a, b) => a + b, 0) + R.reduce((a, b) => a + b, 0);
  const target = Math.max(MIN_TASK_BYTES, total / (threads * TASKS_PER_THREAD));
  const plan: UnitPlan = { units: [], batches: [], skewed: 0, slices: 0, pending: new Map() };
  let whole: [number, number, number][] = [];
  let wholeBytes = 0;
  const closeWhole = () => {
    if (whole.length === 0) return;
    const ps = whole.map(([p]) => p);
    plan.batches.push({ ids: [plan.units.length], what: ps.length === 1 ? `partition ${ps[0]}` : `partitions ${ps[0]}..${ps.at(-1)}` });
    plan.units.push({ kind: 'whole', parts: whole });
    whole = [];
    wholeBytes = 0;
  };
  for (let p = 0; p < L.length; p++) {
    const l = L[p]!;
    const r = R[p]!;
    if ((l === 0 && !keeps(how, 1)) || (r === 0 && !keeps(how, 0))) continue; // no row to make
    const build: Side = l <= r ? 0 : 1;
    const [small, big] = build === 0 ? [l, r] : [r, l];
    const of = Math.min(MAX_SLICES, Math.ceil(big / target));
    if (of >= 2 && small <= limit) {
      plan.skewed++;
      plan.slices += of;
      for (let slice = 0; slice < of; slice++) {
        plan.batches.push({ ids: [plan.units.length], what: `partition ${p} (slice ${slice + 1} of ${of})` });
        plan.units.push({ kind: 'slice', partition: p, build, slice, of });
      }
      if (keeps(how, build)) plan.pending.set(p, { build });
      continue;
    }
    whole.push([p, l, r]);
    wholeBytes += l + r;
    if (wholeBytes >= target) closeWhole();
  }
  closeWhole();
  return plan;
}

/** Notes a first-round result: a slice's marks ORed into its partition's. */
export function noteSlice(plan: UnitPlan, unit: JoinUnit, result: JoinUnitResult): void {
  if (unit.kind !== 'slice' || result.matched === undefined) return;
  const pending = plan.pending.get(unit.partition);
  if (!pending) return;
  if (!pending.matched) pending.matched = result.matched;
  else for (let i = 0; i < result.matched.length; i++) pending.matched[i]! |= result.matched[i]!;
}

/** The second round: per sliced partition whose build side `how` keeps, a unit making the build rows no slice matched. */
export function unmatchedUnits(plan: UnitPlan): { units: JoinUnit[]; batches: GatherBatch[] } {
  const units: JoinUnit[] = [];
  const batches: GatherBatch[] = [];
  for (const [partition, { build, matched }] of plan.pending) {
    batches.push({ ids: [units.length], what: `partition ${partition} (its unmatched ${build === 0 ? 'left' : 'right'} rows)` });
    units.push({ kind: 'unmatched', partition, build, matched: matched ?? new Uint8Array(0) });
  }
  return { units, batches };
}
