/**
 * The messages of a distributed job, between its coordinator and the `partd worker` processes,
 * all through Redis: the tasks (BullMQ jobs' data, JSON), the records the tasks write (a split's
 * commit, a gather task's result) and the events a worker reports (a failure, lost blocks).
 */
import type { ErrorData } from '../../errors.js';
import type { GatherTask, ScatterMode, KeySpec } from '../protocol.js';
import type { SplitSpec } from '../input/splits.js';

/** What every task of a job carries: the job's name (its keys' prefix) and its owner's run. */
interface TaskBase {
  job: string;
  /** The coordinator's run that enqueued it: a task of an ended run is skipped. */
  run: string;
  /** Attempt number (1, 2, …) after failures: retries count on it. */
  attempt: number;
  /** Milliseconds after which the keys the task writes expire (a temporary job's), or 0. */
  ttl: number;
}

/** Scatter one split: read it, write its blocks, commit them (first committed attempt wins). */
export interface ScatterJob extends TaskBase {
  kind: 'scatter';
  /** A `records` split's records are in Redis (`JobKeys.records`), not in the task. */
  split: SplitSpec;
  /** The split's generation: a commit of another generation is refused (a re-run after lost blocks moves it on). */
  gen: number;
  task: { key: KeySpec; partitions: number; budget: number; onBadRecord: 'error' | 'skip' } & ScatterMode;
}

/** One block of a split's output: partition p's bytes (MessagePack frames) in one Redis key, with its size and CRC-32. */
export type Block = [partition: number, key: string, size: number, crc: number];

/** A split's commit: the attempt that wrote it and its blocks, with the split's counts. */
export interface Commit {
  token: string;
  gen: number;
  attempt: number;
  records: number;
  bad: number;
  bytes: number;
  blocks: Block[];
}

/** Gather a few partitions: the coordinator names each partition's blocks (its committed view). */
export interface GatherJob extends TaskBase {
  kind: 'gather';
  /** The task's number in its gather phase (phases of a handle are numbered apart: `phase`). */
  task: number;
  phase: number;
  partitions: number[];
  blocks: Block[][];
  /** Which split wrote each block, in `blocks` order: lost blocks name it. */
  splits: number[][];
  reduce: GatherTask['reduce'];
}

/** A task of the queue. */
export type ClusterTask = ScatterJob | GatherJob;

/** What a gather task records once it has a result: the Redis key holding it (v8-serialised). */
export interface Gathered {
  token: string;
  key: string;
}

/** What a worker reports besides its commits and results. */
export type ClusterEvent = { run: string; id: number; attempt: number; worker: string } & (
  | { type: 'failed'; kind: 'scatter' | 'gather'; phase?: number; error: ErrorData }
  /** A gather task found these splits' blocks missing or corrupt: re-run them. */
  | { type: 'lost'; phase: number; splits: number[]; why: string }
);
