/**
 * `join`, in the calling thread: a hash join of two inputs on the shuffle engine. Both sides
 * are scattered into one store by the same partitioner (the left's partition p under key p,
 * the right's under P + p: two scatter phases on one pool, one job), then gather tasks join
 * partition p of both sides in the workers (join/task.ts), planned from the sizes the scatter
 * committed (join/units.ts). Each task writes its rows to a file of its own, which is read
 * here once the task has succeeded: rows in batches for `join` (a probe side's stored frames
 * made into rows here: join/probed.ts), NDJSON for `joinToFile`.
 */
import { makeTempDir, removeTempDir } from '../../stores/temp.js';
import { gatherPhase, type GatherBatch, type GatherStats } from '../gather/phase.js';
import { decodeFrame, filePieces, frameBatches } from '../gather/spooled.js';
import { fieldReader } from '../input/fields.js';
import { flattened } from '../groupby/index.js';
import type { Progress } from '../options.js';
import { sideName, type JoinReduce, type JoinUnit, type JoinUnitResult, type KeySpec, type Side } from '../protocol.js';
import { poolFor, type WorkerPool } from '../runtime/pool.js';
import { endJob } from '../runtime/end-job.js';
import { scatterPhase, type ShuffleStats } from '../scatter/phase.js';
import { broadcastCandidate, broadcastPlan, buildRecords, noteRead, probeStats } from './broadcast.js';
import { planJoin, type JoinOptions, type JoinPlan } from './options.js';
import { HeldTable, isProbed, isTable, probedRows } from './probed.js';
import { readSizes } from './sizes.js';
import { buildLimit, noteSlice, planUnits, unmatchedUnits, type UnitPlan } from './units.js';
import { toFile } from '../to-file.js';

export type { JoinKey, JoinOptions } from './options.js';
export type { JoinHow } from '../protocol.js';

/** A joined row: the key, and each side's record, `null` on a side without a match (`key` is null for a keyless record's row). */
export interface JoinRow<L = unknown, R = unknown> {
  key: string | number | null;
  left: L | null;
  right: R | null;
}

/** Counts of a join. */
export interface JoinStats {
  /** Each side's scatter phase (records, bad records, bytes, retries, resumed records); a broadcast's other side counts what its units read. */
  left: ShuffleStats;
  right: ShuffleStats;
  /** The side held whole by every task while the other streamed past it from its input, unshuffled (a broadcast join), or null. */
  broadcast: 'left' | 'right' | null;
  /** Joined rows made (by the end of the gather). */
  rows: number;
  partitions: number;
  workers: number;
  /** Skewed partitions whose larger side was cut into slices, and the slices. */
  skewed: number;
  slices: number;
  /** Partitions (and sub-partitions) split again because their smaller side was over a task's memory share (grace). */
  resplits: number;
  /** Gather attempts that failed and were retried. */
  gatherRetried: number;
  scatterSeconds: number;
  gatherSeconds: number;
}

/** What a reader of a join's row files is told: the stats, the keys, and a broadcast's build records (probed frames point into them). */
interface Hooks {
  onStats?: (s: JoinStats) => void;
  onKeys?: (keys: KeySpec[]) => void;
  onTable?: (records: unknown[]) => void;
}

/**
 * The files of the joined rows, as gather tasks finish (each read before the next is asked
 * for). `onStats` gets the stats once the sides it shuffles are scattered; the same object is complete
 * when the generator ends.
 */
async function* partFiles(options: JoinOptions, format: JoinReduce['format'], hooks: Hooks = {}): AsyncGenerator<string> {
  const { onStats, onKeys, onTable } = hooks;
  const j = await planJoin(options);
  onKeys?.(j.keys);
  const [lp] = j.sides;
  const user = j.run.progress;
  const pool = poolFor(j.run, j.threads); // both phases of both sides: threads start once
  const dir = makeTempDir('join'); // rows and grace spill stores; removed at the end, and at exit
  const gathered: GatherStats = { gatherRetried: 0 };
  let stats: JoinStats | undefined;
  const t0 = performance.now();
  try {
    const limit = buildLimit(j.run.memory, pool.threads);
    const { sides, plan, broadcast } = await scatterSides(j, pool, limit);
    const P = lp.partitions;
    const held = broadcast !== undefined && onTable ? await buildRecords(lp.store, broadcast, P) : undefined;
    if (held) onTable!(held);
    stats = {
      left: sides[0],
      right: sides[1],
      broadcast: broadcast === undefined ? null : sideName(broadcast),
      rows: 0,
      partitions: P,
      workers: pool.threads,
      skewed: plan.skewed,
      slices: plan.slices,
      resplits: 0,
      gatherRetried: 0,
      scatterSeconds: (performance.now() - t0) / 1000,
      gatherSeconds: 0,
    };
    onStats?.(stats);
    const total = plan.batches.length + plan.pending.size;
    let done = 0;
    const round = async function* (units: JoinUnit[], batches: GatherBatch[]): AsyncGenerator<[JoinUnit, JoinUnitResult]> {
      const first = done;
      const progress = (e: Progress) =>
        e.phase === 'gather' ? user({ phase: 'gather', partitionsDone: (done = first + e.partitionsDone), partitions: total }) : user(e);
      const reduce: JoinReduce = {
        kind: 'join',
        how: j.how,
        keys: j.keys,
        partitions: P,
        units,
        dir,
        format,
        limit,
        onBadRecord: j.run.onBadRecord,
      };
      for await (const [id, r] of gatherPhase<JoinUnitResult>({ ...lp, progress }, pool, reduce, gathered, { batches }))
        yield [units[id]!, r];
    };
    const second = async function* () {
      const { units, batches } = unmatchedUnits(plan); // once every slice has marked its matches
      yield* round(units, batches);
    };
    for (const results of [round(plan.units, plan.batches), second()]) {
      for await (const [unit, r] of results) {
        noteSlice(plan, unit, r);
        if (broadcast !== undefined) noteRead(sides[broadcast === 0 ? 1 : 0], unit, r, held);
        stats.rows += r.rows;
        stats.resplits += r.resplits;
        if (r.file !== undefined) yield r.file;
      }
    }
  } finally {
    if (stats)
      Object.assign(stats, {
        gatherRetried: gathered.gatherRetried,
        gatherSeconds: (performance.now() - t0) / 1000 - stats.scatterSeconds,
      });
    await endJob(lp, pool, j.temporary); // a store the caller named stays: a re-run resumes its scatter
    removeTempDir(dir);
  }
}

/**
 * Scatters the sides a join shuffles, under one scatter bar (the second side's counts follow
 * the first's), and plans its gather: a broadcast of a small side (join/broadcast.ts), whose
 * other side is then never scattered, or units of both sides' partitions (join/units.ts).
 */
async function scatterSides(
  j: JoinPlan,
  pool: WorkerPool,
  limit: number,
): Promise<{ sides: [ShuffleStats, ShuffleStats]; plan: UnitPlan; broadcast: Side | undefined }> {
  const user = j.run.progress;
  const candidate = broadcastCandidate(j);
  const order: Side[] = candidate === undefined ? [0, 1] : [candidate, candidate === 0 ? 1 : 0];
  let scope: Side[] = candidate === undefined ? [0, 1] : [candidate]; // the sides the bar counts
  let before = { records: 0, bytesRead: 0, bytesAppended: 0, splitsDone: 0 };
  let seen = before;
  const scattering = (e: Progress) => {
    if (e.phase !== 'scatter') return user(e);
    seen = {
      records: before.records + e.records,
      bytesRead: before.bytesRead + e.bytesRead,
      bytesAppended: before.bytesAppended + e.bytesAppended,
      splitsDone: before.splitsDone + e.splitsDone,
    };
    const planned = scope.map((s) => j.sides[s]);
    const splits = planned.some((p) => 'records' in p.input) ? undefined : planned.reduce((n, p) => n + p.splits.length, 0);
    user({ phase: 'scatter', ...seen, bytesTotal: planned.reduce((n, p) => n + p.bytesTotal, 0), splits });
  };
  const scatter = (side: Side) => scatterPhase({ ...j.sides[side], progress: scattering }, pool, { join: { side } });
  const stats: ShuffleStats[] = [];
  stats[order[0]!] = await scatter(order[0]!);
  const P = j.sides[0].partitions;
  if (candidate !== undefined) {
    const sizes = (await readSizes(j.sides[0].store, P))[candidate];
    if (sizes.reduce((a, b) => a + b, 0) <= limit) {
      const probe = j.sides[order[1]!];
      stats[order[1]!] = probeStats(probe, pool.threads);
      return { sides: stats as [ShuffleStats, ShuffleStats], plan: broadcastPlan(probe, candidate), broadcast: candidate };
    }
  }
  before = seen;
  scope = [0, 1];
  stats[order[1]!] = await scatter(order[1]!);
  const plan = planUnits(await readSizes(j.sides[0].store, P), j.how, pool.threads, limit);
  return { sides: stats as [ShuffleStats, ShuffleStats], plan, broadcast: undefined };
}

/**
 * Joins two inputs on a key, as an async iterable of `{ key, left, right }` rows (in no
 * particular order), partition by partition as the gather tasks finish: every pair of
 * records whose keys are equal, and with `how` 'left', 'right' or 'outer' each record of
 * those sides that matches none, with `null` for the other side. `null` or missing keys match
 * nothing; `1` and `"1"` are different keys. `onStats` is called once both sides are
 * scattered; the same object is complete by the end of the iteration (docs/join.md).
 */
export function join<L = unknown, R = unknown>(
  options: JoinOptions<L, R>,
  onStats?: (s: JoinStats) => void,
): AsyncIterableIterator<JoinRow<L, R>> {
  return flattened(rowBatches<L, R>(options as JoinOptions, onStats));
}

async function* rowBatches<L, R>(options: JoinOptions, onStats?: (s: JoinStats) => void): AsyncGenerator<JoinRow<L, R>[]> {
  let keyOf: ((record: unknown) => unknown)[] = [];
  const keys = (spec: KeySpec[]) => (keyOf = spec.map((k) => ('field' in k ? fieldReader(k.field) : () => undefined)));
  let shared = new HeldTable([]); // a broadcast's build records, for every file
  const onTable = (records: unknown[]) => (shared = new HeldTable(records));
  for await (const file of partFiles(options, 'msgpack', { onStats, onKeys: keys, onTable })) {
    let table = shared;
    for await (const frame of frameBatches<unknown>(filePieces(file), file)) {
      if (isTable(frame)) table = new HeldTable(frame[1]);
      else yield (isProbed(frame) ? probedRows(frame, decodeFrame(frame[2]), table, keyOf[frame[1]]) : frame) as JoinRow<L, R>[];
    }
  }
}

/** The joined rows as NDJSON, one `{"key","left","right"}` line each, made in the workers; for writers (the CLI, `joinToFile`). */
export async function* joinNdjson(options: JoinOptions, onStats?: (s: JoinStats) => void): AsyncGenerator<Uint8Array> {
  for await (const file of partFiles(options, 'ndjson', { onStats })) yield* filePieces(file);
}

/**
 * Joins as `join` does and writes the rows to `file` as NDJSON (one JSON object a line, made
 * in the worker threads): written aside and renamed into place once the join has succeeded.
 * Resolves to the join's stats.
 */
export async function joinToFile(options: JoinOptions, file: string): Promise<JoinStats> {
  return toFile(file, (onStats: (s: JoinStats) => void) => joinNdjson(options, onStats));
}
