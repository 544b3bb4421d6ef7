/**
 * A distributed job's coordinator: the splits and gather tasks enqueued on the BullMQ queue
 * (tracked.ts), then a poll loop over what the workers record in Redis (reads.ts) until a phase
 * is done, with periodic checks — the claim, the workers, tasks whose BullMQ job ended without
 * an outcome (recover.ts) — so that the job goes on whatever is lost on the way, or fails,
 * named, when Redis lost the job itself or reached `maxmemory`. Runs in the calling thread.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Queue } from 'bullmq';
import { NoWorkersError } from '../../errors.js';
import type { SplitSpec } from '../input/splits.js';
import type { GatherTask } from '../protocol.js';
import { fileBytes } from '../scatter/split-queue.js';
import type { ClusterClaim } from './claim.js';
import type { Link } from './link.js';
import { partitionChunks } from './partition.js';
import { readCommits, readEvents, readResults } from './reads.js';
import { reconcile } from './recover.js';
import { RunState, type RunPlan, type SplitRun, type TaskRun } from './tracked.js';
import { liveWorkers } from './worker.js';

export type { RunPlan } from './tracked.js';

/** How often Redis is polled for commits, results and events; and how often the claim, the queue and the workers are checked. */
const POLL_MS = 40;
const CHECK_MS = 1000;
/** Bytes of blocks `iterate` reads ahead of the records it yields: a few reads in flight, little memory. */
const ITERATE_AHEAD = 8 << 20;

export class ClusterRun {
  readonly state: RunState;
  #phases = 0;
  #lastCheck = 0;
  #noWorkerSince: number | undefined;

  constructor(link: Link, queue: Queue, claim: ClusterClaim, plan: RunPlan) {
    this.state = new RunState(link, queue, claim, plan);
  }

  get splits(): ReadonlyMap<number, SplitRun> {
    return this.state.splits;
  }

  /** Gather attempts run again (failed, or their blocks lost), and scatter attempts. */
  get gatherRetried(): number {
    return this.state.gatherRetried;
  }
  get scatterRetried(): number {
    return this.state.scatterRetried;
  }

  /** Adds a split: committed by an earlier run (resumed: true) or enqueued. */
  async addSplit(spec: SplitSpec): Promise<SplitRun> {
    const { state } = this;
    const index = spec.index;
    const s: SplitRun = { spec, gen: state.claim.gens.get(index) ?? 0, attempt: 1, causes: [], ended: 0, runs: 0, lost: 0 };
    state.splits.set(index, s);
    const commit = state.claim.commits.get(index);
    if (commit) state.commit(s, commit);
    else await state.enqueueSplit(s);
    return s;
  }

  /** Called with each split as its commit is seen. */
  onCommit(fn: (s: SplitRun) => void): void {
    this.state.committed = fn;
  }

  /** Polls until `done()`; throws what ends the job. */
  async until(done: () => boolean): Promise<void> {
    for (;;) {
      this.state.plan.signal?.throwIfAborted();
      await this.#step();
      if (done()) return;
      await sleep(POLL_MS);
    }
  }

  /** Runs gather tasks over `batches` of partitions; yields each partition's result as its task's comes. */
  async *gather<R>(batches: number[][], reduce: GatherTask['reduce']): AsyncGenerator<[number, R]> {
    const { state } = this;
    const phase = ++this.#phases;
    state.partitionsDone = 0;
    const tasks = batches.map((partitions, id): TaskRun => ({
      id,
      phase,
      partitions,
      reduce,
      done: false,
      attempt: 1,
      causes: [],
      ended: 0,
      runs: 0,
    }));
    for (const t of tasks) state.tasks.set(state.field(t), t);
    try {
      for (const t of tasks) await state.enqueueTask(t);
      let left = tasks.length;
      while (left > 0) {
        await this.until(() => state.results.length > 0);
        for (const [t, results] of state.results.splice(0)) {
          if (t.phase !== phase) continue;
          left--;
          yield* results as [number, R][];
        }
      }
    } finally {
      for (const t of tasks) state.tasks.delete(state.field(t));
    }
  }

  /** Partition `p`'s bytes, from the committed blocks (splits whose blocks were lost scattered again first). */
  async partition(p: number): Promise<Buffer[]> {
    const chunks: Buffer[] = [];
    for await (const split of partitionChunks(this, p, Infinity)) chunks.push(...split);
    return chunks;
  }

  /** Partition `p`'s bytes split by split, each checked before it comes (see partition.ts). */
  iterate(p: number): AsyncGenerator<Buffer[]> {
    return partitionChunks(this, p, ITERATE_AHEAD);
  }

  async #step(): Promise<void> {
    const { state } = this;
    if (Date.now() - this.#lastCheck >= CHECK_MS) {
      this.#lastCheck = Date.now();
      await state.claim.check();
      await this.#checkWorkers();
      await reconcile(state);
    }
    await readEvents(state);
    await readCommits(state);
    await readResults(state);
  }

  async #checkWorkers(): Promise<void> {
    const { link, plan } = this.state;
    const { workers } = await liveWorkers(link, link.settings.queue);
    if (workers > 0) return void (this.#noWorkerSince = undefined);
    this.#noWorkerSince ??= Date.now();
    if (Date.now() - this.#noWorkerSince >= plan.workerWait)
      throw new NoWorkersError(
        `no partd worker listened on queue ${JSON.stringify(link.settings.queue)} at Redis ${link.server} for ${Math.round(plan.workerWait / 1000)} s: start one on each machine with \`partd worker --redis URL --queue ${link.settings.queue}\``,
      );
  }

  /** Counts over the committed splits. */
  counts(): { records: number; bad: number; bytes: number; read: number } {
    let records = 0,
      bad = 0,
      bytes = 0,
      read = 0;
    for (const s of this.state.splits.values()) {
      if (!s.commit) continue;
      records += s.commit.records;
      bad += s.commit.bad;
      bytes += s.commit.bytes;
      read += fileBytes(s.spec);
    }
    return { records, bad, bytes, read };
  }
}
