/**
 * What a distributed job's coordinator tracks — its splits and gather tasks, their attempts and
 * commits — and how it puts them on the BullMQ queue. The run's other parts (run.ts, reads.ts,
 * recover.ts, partition.ts) share this state. Runs in the calling thread.
 */
import type { Queue } from 'bullmq';
import type { SplitSpec } from '../input/splits.js';
import type { Progress } from '../options.js';
import type { GatherTask } from '../protocol.js';
import type { ClusterClaim } from './claim.js';
import { taskField } from './keys.js';
import type { Link } from './link.js';
import type { Block, Commit, GatherJob, ScatterJob } from './messages.js';

/** What the run takes from the job's plan. */
export interface RunPlan {
  partitions: number;
  retries: number;
  progress: (p: Progress) => void;
  signal?: AbortSignal;
  bytesTotal: number;
  /** Milliseconds to wait for a worker before the job fails with NoWorkersError. */
  workerWait: number;
}

export interface Tracked {
  attempt: number;
  /** Failures so far, for the retry bound. */
  causes: Error[];
  /** BullMQ job id of the current run, and how many checks found that job ended without its outcome. */
  queued?: string;
  ended: number;
  runs: number;
}
export interface SplitRun extends Tracked {
  spec: SplitSpec;
  gen: number;
  /** Set through `RunState.commit` only: the blocks' view follows it. */
  readonly commit?: Commit;
  /** Times its blocks were found lost. */
  lost: number;
}
export interface TaskRun extends Tracked {
  id: number;
  phase: number;
  partitions: number[];
  reduce: GatherTask['reduce'];
  done: boolean;
  /** Splits re-run for it (their blocks were lost), or not yet committed: it is enqueued once they commit. */
  waiting?: Set<number>;
}

/** A partition's committed blocks in split order, with the split of each. */
export interface PartitionBlocks {
  blocks: Block[];
  splits: number[];
}
const NONE: PartitionBlocks = { blocks: [], splits: [] };

export class RunState {
  readonly splits = new Map<number, SplitRun>();
  /** The current gather phase's tasks, by result field. */
  readonly tasks = new Map<string, TaskRun>();
  /** Task results read but not yet yielded by the phase loop. */
  readonly results: [TaskRun, [number, unknown][]][] = [];
  /** Events read so far (the claim's count: a resumed job's earlier events are skipped). */
  events: number;
  /** Partitions of the current gather phase whose results were read, for its progress. */
  partitionsDone = 0;
  /** Gather attempts run again (failed, or their blocks lost). */
  gatherRetried = 0;
  scatterRetried = 0;
  /** What every scatter session of the job does (set before the first split is added). */
  scatterTask: ScatterJob['task'] | undefined;
  /** Called with each split as its commit is seen. */
  committed: (s: SplitRun) => void = () => undefined;
  /** Every partition's blocks, built once per committed view (a phase's, unless a rerun changes a commit). */
  #view: Map<number, PartitionBlocks> | undefined;

  constructor(
    readonly link: Link,
    readonly queue: Queue,
    readonly claim: ClusterClaim,
    readonly plan: RunPlan,
  ) {
    this.events = claim.events;
  }

  /** Sets (or withdraws, `undefined`) a split's commit. */
  commit(s: SplitRun, commit: Commit | undefined): void {
    (s as { commit?: Commit }).commit = commit;
    this.#view = undefined;
  }

  /** Every split committed: the view of the blocks is whole. */
  allCommitted(): boolean {
    for (const s of this.splits.values()) if (!s.commit) return false;
    return true;
  }

  /** Partition `p`'s committed blocks (call once every split is committed). */
  blocksOf(p: number): PartitionBlocks {
    this.#view ??= this.#index();
    return this.#view.get(p) ?? NONE;
  }

  #index(): Map<number, PartitionBlocks> {
    const view = new Map<number, PartitionBlocks>();
    const ordered = [...this.splits.values()].sort((a, b) => a.spec.index - b.spec.index);
    for (const s of ordered) {
      if (!s.commit) throw new Error(`internal: the blocks of partitions read while split ${s.spec.index} is uncommitted`);
      for (const b of s.commit.blocks) {
        let at = view.get(b[0]);
        if (!at) view.set(b[0], (at = { blocks: [], splits: [] }));
        at.blocks.push(b);
        at.splits.push(s.spec.index);
      }
    }
    return view;
  }

  field(t: TaskRun): string {
    return taskField(this.claim.run, t.phase, t.id);
  }

  async enqueueSplit(s: SplitRun): Promise<void> {
    const spec = s.spec.kind === 'records' ? { ...s.spec, records: [], unsendable: undefined } : s.spec;
    const data: ScatterJob = {
      kind: 'scatter',
      job: this.claim.keys.name,
      run: this.claim.run,
      attempt: s.attempt,
      gen: s.gen,
      split: spec,
      task: this.scatterTask!,
      ttl: this.claim.ttl,
    };
    await this.#add(s, `${this.claim.keys.name}.${this.claim.run}.s${s.spec.index}.g${s.gen}.a${s.attempt}.r${s.runs}`, data);
  }

  /** Enqueues gather task `t`, or, while a split is uncommitted (re-run for lost blocks), has it wait for the commits. */
  async enqueueTask(t: TaskRun): Promise<void> {
    const uncommitted = [...this.splits.values()].filter((s) => !s.commit);
    if (uncommitted.length > 0) {
      t.queued = undefined;
      t.waiting = new Set(uncommitted.map((s) => s.spec.index));
      return;
    }
    t.waiting = undefined;
    const of = t.partitions.map((p) => this.blocksOf(p));
    const data: GatherJob = {
      kind: 'gather',
      job: this.claim.keys.name,
      run: this.claim.run,
      attempt: t.attempt,
      task: t.id,
      phase: t.phase,
      partitions: t.partitions,
      blocks: of.map((x) => x.blocks),
      splits: of.map((x) => x.splits),
      reduce: t.reduce,
      ttl: this.claim.ttl,
    };
    await this.#add(t, `${this.claim.keys.name}.${this.claim.run}.p${t.phase}.t${t.id}.a${t.attempt}.r${t.runs}`, data);
  }

  async #add(item: Tracked, id: string, data: object): Promise<void> {
    item.queued = id;
    item.ended = 0;
    await this.link.call('enqueue', () =>
      this.queue.add(id.split('.')[2]!, data, { jobId: id, removeOnComplete: true, removeOnFail: true }),
    );
  }
}
