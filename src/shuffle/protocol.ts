/**
 * The messages between the coordinating thread and the worker threads: a scatter session
 * (scatter/phase.ts ↔ scatter/session.ts) is one Piscina task that asks for splits and hands
 * over its commits on a MessagePort of its own; a gather task (gather/phase.ts ↔
 * gather/task.ts) reduces a batch of partitions and returns their results.
 */
import type { MessagePort } from 'node:worker_threads';
import type { SplitPart } from './runtime/commits.js';
import type { Fault } from './runtime/faults.js';
import type { ResolvedRef } from './runtime/modules.js';
import type { PlannedAgg } from './groupby/aggregations.js';
import type { SplitSpec } from './input/splits.js';
import type { SortPoint } from './sort/order.js';

/** How a record's key is found: a field name (with its declared type, if any), or a function module. */
export type KeySpec = { field: string; type?: 'string' | 'number' } | ResolvedRef;

/**
 * What a scatter session does besides a shuffle's (whole records, by the key's hash): at most
 * one of these (scatter/placement.ts).
 */
export interface ScatterMode {
  /** groupBy: aggregate per key before the shuffle (states must be mergeable), or tag records with their ordinal. */
  group?: { plan: PlannedAgg[]; combine: boolean };
  /** sort: partition by key range (records tagged with their ordinal) instead of by hash. */
  range?: RangeSpec;
  /** join: which input the session reads. */
  join?: JoinScatter;
}

/** One scatter session: the task a worker thread runs. */
export interface ScatterTask extends ScatterMode {
  key: KeySpec;
  partitions: number;
  /** Encoded bytes to buffer before committing. */
  budget: number;
  onBadRecord: 'error' | 'skip';
  /** The line to the coordinator: `SessionMessage`s out, `Assignment | null` in. */
  port: MessagePort;
  /** Test-only fault injection (runtime/faults.ts). */
  faults?: Fault[];
}

/** A join's input: 0 the left, 1 the right. */
export type Side = 0 | 1;

/** A side as its option names it. */
export const sideName = (side: Side): 'left' | 'right' => (side === 0 ? 'left' : 'right');

/**
 * A join's scatter session reads one side: its partition p goes under store key side · P + p,
 * a record without a key (null or missing) is kept, spread over the partitions (it matches
 * nothing), and each commit also appends the bytes it adds to each partition (join/sizes.ts).
 */
export interface JoinScatter {
  side: Side;
}

/** The first split number of a join's right input (the left's count from 0), so both sides' markers share one store. */
export const RIGHT_SPLITS = 2 ** 20;

/** A split handed to a session (null instead: no more splits). */
export interface Assignment {
  split: SplitSpec;
  /** The session's token; its commits for this split are refused once the lease moves. */
  lease: string;
  /** The split's failures so far plus one (fault injection keys on it). */
  attempt: number;
  /** Position the split's committed parts reach, and the number of the next part. */
  from: number;
  part: number;
  /** Commit right after reading this split (it bounds what a retry redoes). */
  commit: boolean;
}

/** A session's messages to the coordinator: ask for the next split (reporting the one read), or commit. */
export type SessionMessage = { type: 'next'; read?: SplitRead } | { type: 'commit'; entries: [string, Uint8Array][]; parts: SplitPart[] };

/** A split read to its end, for progress (not yet committed). */
export interface SplitRead {
  split: number;
  records: number;
  bad: number;
}

/** What a session reports: how many commits it posted (the coordinator awaits them all). */
export interface ScatterResult {
  commits: number;
}

/** A custom gather reducer: the partition's record batches in, any structured-clonable value out. */
export type PartitionReducer<T = unknown, R = unknown> = (batches: AsyncIterable<T[]>, partition: number) => R | Promise<R>;

/** One gather task: several partitions, so that a task is worth a round trip to the coordinator. */
export interface GatherTask {
  store: string;
  partitions: number[];
  reduce:
    | { kind: 'groupBy'; plan: PlannedAgg[]; combined: boolean; lines?: boolean }
    | { kind: 'module'; ref: ResolvedRef }
    | JoinReduce
    | SortReduce;
  attempt: number;
  /** The partitions' stored bytes, in `partitions` order, instead of the store at `store` (a distributed job's blocks). */
  chunks?: Uint8Array[][];
  /** Test-only fault injection (runtime/faults.ts). */
  faults?: Fault[];
}

/** Which unmatched rows a join keeps: none (inner), the left's, the right's, or both (outer). */
export type JoinHow = 'inner' | 'left' | 'right' | 'outer';

/** Whether `how` keeps the unmatched rows of `side` (with null for the other side). */
export const keeps = (how: JoinHow, side: Side): boolean => how === 'outer' || how === (side === 0 ? 'left' : 'right');

/**
 * A unit of a join's gather (join/units.ts): partitions joined whole (with each side's stored
 * bytes), one slice of a skewed partition's larger side (its frames i, i + of, …) against the
 * whole of its build side, the build rows no slice of a sliced partition matched, or a split of
 * the probe side read from its input against the whole build side (a broadcast: join/broadcast.ts).
 */
export type JoinUnit =
  | { kind: 'whole'; parts: [partition: number, left: number, right: number][] }
  | { kind: 'slice'; partition: number; build: Side; slice: number; of: number }
  | { kind: 'unmatched'; partition: number; build: Side; matched: Uint8Array }
  | { kind: 'broadcast'; build: Side; split: SplitSpec };

/** A join's gather: `GatherTask.partitions` are indexes into `units`. */
export interface JoinReduce {
  kind: 'join';
  how: JoinHow;
  keys: [KeySpec, KeySpec];
  /** P: side s's partition p is store key s · P + p. */
  partitions: number;
  units: JoinUnit[];
  /** Where each attempt writes its rows (a file of its own) and its grace spill stores; the rows' form. */
  dir: string;
  format: 'msgpack' | 'ndjson';
  /** Stored bytes of one build side a task may hold in memory; a larger partition is split again (grace). */
  limit: number;
  /** What a broadcast unit does with a bad record of the split it reads. */
  onBadRecord: 'error' | 'skip';
}

/** What a join unit's attempt returns: its rows' file (none when it made no rows), and which build rows a slice matched. */
export interface JoinUnitResult {
  file: string | undefined;
  rows: number;
  /** Re-splits of partitions over the memory share (grace), sub-partitions included. */
  resplits: number;
  /** A slice's build rows matched, one bit each in read order. */
  matched?: Uint8Array;
  /** A broadcast unit's split: its records joined and its bad records skipped; the build records its table held. */
  read?: { records: number; bad: number; built: number };
}

/** A sort's range partitioning (sort/order.ts): P − 1 splitters in order, and the direction. */
export interface RangeSpec {
  splitters: SortPoint[];
  descending: boolean;
}

/** A sort's gather: each partition sorted within `budget` bytes (runs spilled to `spill` beyond), out as MessagePack frames of records or NDJSON. */
export interface SortReduce {
  kind: 'sort';
  descending: boolean;
  /** Bytes of memory a partition's sort may use in its worker. */
  budget: number;
  /** The directory for spilled runs and outputs too large to return. */
  spill: string;
  format: 'msgpack' | 'ndjson';
}

/**
 * A sorted partition: its records in order, as chunks (returned) or in a file of `spill` (the
 * reader deletes it); with `order`, the chunks are the stored blocks' records (MessagePack
 * arrays) and `order` the sorted positions in their concatenation.
 */
export interface SortedPartition {
  count: number;
  /** Runs spilled to disk (0: sorted in memory). */
  runs: number;
  chunks: Uint8Array[];
  order?: Uint32Array;
  file?: string;
}

/** A sort's sample of one split: `samples` points drawn uniformly from its records (sort/sample.ts). */
export interface SampleTask {
  split: SplitSpec;
  key: KeySpec;
  samples: number;
  /** A records batch's draws: `split.records` are the records at these positions of a batch of `of`. */
  drawn?: { positions: number[]; of: number };
  attempt: number;
  /** Test-only fault injection (runtime/faults.ts). */
  faults?: Fault[];
}

/** The points drawn, and how many records with a usable key the split holds (or an estimate). */
export interface SampleResult {
  points: SortPoint[];
  records: number;
}

/**
 * A groupBy partition's result: its keys and one column of values per aggregation, in plan
 * order (columns cross threads far cheaper than one row object per group).
 */
export interface GroupColumns {
  keys: (string | number)[];
  columns: unknown[][];
}

/**
 * `GroupColumns` as a gather task returns them: string keys joined into one string (with each
 * key's end), number columns as Float64Arrays. Cloning those between threads copies bytes;
 * cloning 100k strings and numbers one by one was most of the coordinator's work on many groups.
 */
export interface PackedColumns {
  keys: (string | number)[] | { text: string; ends: Uint32Array };
  columns: (unknown[] | Float64Array)[];
}

/** Packs a partition's result (in the gather worker); plain loops: `every` and `TypedArray.from` cost as much as the clone saved. */
export function packColumns({ keys, columns }: GroupColumns): PackedColumns {
  const n = keys.length;
  const ends = new Uint32Array(n);
  let end = 0;
  for (let i = 0; i < n; i++) {
    const key = keys[i]!;
    if (typeof key !== 'string') return { keys, columns: columns.map(packColumn) };
    ends[i] = end += key.length;
  }
  return { keys: { text: keys.join(''), ends }, columns: columns.map(packColumn) };
}

function packColumn(column: unknown[]): unknown[] | Float64Array {
  const out = new Float64Array(column.length);
  for (let i = 0; i < column.length; i++) {
    const v = column[i];
    if (typeof v !== 'number') return column;
    out[i] = v;
  }
  return out;
}

/** The keys of a packed result. */
export function keysOf({ keys }: PackedColumns): (string | number)[] {
  if (Array.isArray(keys)) return keys;
  const { text, ends } = keys;
  const out = new Array<string>(ends.length);
  for (let i = 0, start = 0; i < ends.length; start = ends[i++]!) out[i] = text.slice(start, ends[i]);
  return out;
}
