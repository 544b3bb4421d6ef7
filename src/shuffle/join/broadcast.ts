/**
 * Broadcast joins, planned in the coordinating thread: when one side is small, the other need
 * not be shuffled at all (Spark's broadcast hash join). The side expected to be smaller is
 * scattered first; if what it stored fits a task's memory share (join/units.ts `buildLimit`),
 * every gather task holds it whole and reads one split of the other side straight from its
 * input (join/broadcast-unit.ts). Only when `how` keeps none of the small side's unmatched rows:
 * those would need every task's matches, and the other side cannot be a `records` input (its
 * splits are made as it is read, in a scatter).
 */
import type { GatherBatch } from '../gather/phase.js';
import { localSplit } from '../input/locate.js';
import { describeSplit, type SplitSpec } from '../input/splits.js';
import { Msgpack } from '../../layers/values.js';
import type { Lmdb } from '../../stores/lmdb/lmdb.js';
import type { Plan } from '../options.js';
import { keeps, sideName, type JoinUnit, type JoinUnitResult, type Side } from '../protocol.js';
import type { ShuffleStats } from '../scatter/phase.js';
import type { JoinPlan } from './options.js';
import type { UnitPlan } from './units.js';

/** What an input's size is known as before it is read: its files' bytes, or its records (generate, make). */
function estimate(p: Plan): { bytes: number } | { records: number } | undefined {
  if ('records' in p.input) return undefined;
  if (p.bytesTotal > 0) return { bytes: p.bytesTotal };
  return { records: p.splits.reduce((n, s) => n + (s.kind === 'range' ? s.end - s.start : 0), 0) };
}

/** The smaller of two estimates when they compare (both bytes, or both records), else undefined. */
function smaller(a: ReturnType<typeof estimate>, b: ReturnType<typeof estimate>): Side | undefined {
  if (a && b && 'bytes' in a && 'bytes' in b) return a.bytes < b.bytes ? 0 : 1;
  if (a && b && 'records' in a && 'records' in b) return a.records < b.records ? 0 : 1;
  return undefined;
}

/** The side a join scatters first, to broadcast it if it turns out small enough; undefined when no broadcast can serve (both sides shuffled). */
export function broadcastCandidate(j: JoinPlan): Side | undefined {
  if (!j.broadcast) return undefined;
  const [left, right] = j.sides.map(estimate);
  // a records input cannot be the probe side; else a dimension table is usually the right
  const b: Side = smaller(left, right) ?? (left === undefined && right !== undefined ? 0 : 1);
  const probe = j.sides[b === 0 ? 1 : 0];
  if (keeps(j.how, b) || 'records' in probe.input || probe.splits.length === 0) return undefined;
  return b;
}

/** The gather of a broadcast of side `build`: one unit per split of the other side (`probe`). */
export function broadcastPlan(probe: Plan, build: Side): UnitPlan {
  const units: JoinUnit[] = probe.splits.map((split) => ({ kind: 'broadcast', build, split }));
  const batches: GatherBatch[] = probe.splits.map((split, i) => ({ ids: [i], what: named(split, build === 0 ? 1 : 0) }));
  return { units, batches, skewed: 0, slices: 0, pending: new Map() };
}

/** A probe split as errors name it: within its side's input. */
const named = (split: SplitSpec, side: Side): string => `${sideName(side)}: ${describeSplit(localSplit(split, side))}`;

/** The stats of a broadcast's probe side before its units run (they add what they read: `noteRead`). */
export function probeStats(probe: Plan, threads: number): ShuffleStats {
  return {
    records: 0,
    badRecords: 0,
    bytesRead: 0,
    bytesAppended: 0,
    splits: probe.splits.length,
    partitions: probe.partitions,
    workers: threads,
    retried: 0,
    gatherRetried: 0,
    resumed: 0,
    scatterSeconds: 0,
  };
}

/**
 * The build side's records as every broadcast unit's table holds them: its partitions in order,
 * each in the order the store holds it (probed frames point into it by index).
 */
export async function buildRecords(store: Lmdb, build: Side, partitions: number): Promise<unknown[]> {
  const codec = new Msgpack(store);
  const records: unknown[] = [];
  for (let p = 0; p < partitions; p++)
    for await (const batch of codec.iterate(build * partitions + p)) for (const r of batch) records.push(r);
  return records;
}

/**
 * Adds a broadcast unit's reading to its side's stats; `held`: the build records the
 * coordinator holds for probed frames, which the unit's table must match.
 */
export function noteRead(stats: ShuffleStats, unit: JoinUnit, result: JoinUnitResult, held: unknown[] | undefined): void {
  if (unit.kind !== 'broadcast' || !result.read) return;
  if (held && held.length !== result.read.built)
    throw new Error(`broadcast join: a task's table held ${result.read.built} build records, the coordinator's ${held.length}`);
  stats.records += result.read.records;
  stats.badRecords += result.read.bad;
  if (unit.split.kind === 'csv' || unit.split.kind === 'ndjson') stats.bytesRead += unit.split.end - unit.split.start;
}
