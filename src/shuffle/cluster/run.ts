/**
 * A distributed job's coordinator: the splits and gather tasks enqueued on the BullMQ queue, and
 * what the workers record followed by polling Redis — commits, results, events — so that the
 * job goes on whatever is lost on the way. A task that fails is retried (`retries`), one whose
 * BullMQ job vanished (a failover) is enqueued again, a split whose blocks a gather task found
 * lost or corrupt is withdrawn and scattered again, and the job fails, named, when Redis lost
 * the job itself or reached `maxmemory`. Runs in the calling thread.
 */
import v8 from 'node:v8';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Queue } from 'bullmq';
import { BlockLostError, errorFromData, NoWorkersError, BadRecordError } from '../../errors.js';
import { final, gaveUp } from '../runtime/retries.js';
import { describeSplit, type SplitSpec } from '../input/splits.js';
import { fileBytes } from '../scatter/split-queue.js';
import type { Progress } from '../options.js';
import type { GatherTask } from '../protocol.js';
import { deleteBlocks, readBlocks } from './blocks.js';
import type { ClusterClaim } from './claim.js';
import type { Link } from './link.js';
import type { Block, ClusterEvent, Commit, GatherJob, Gathered, ScatterJob } from './messages.js';
import { WITHDRAW } from './scripts.js';
import { liveWorkers } from './worker.js';

/** How often Redis is polled for commits, results and events; and how often the claim, the queue and the workers are checked. */
const POLL_MS = 40;
const CHECK_MS = 1000;

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

interface Tracked {
  attempt: number;
  /** Failures so far, for the retry bound. */
  causes: Error[];
  /** BullMQ job id of the current run, and how many checks found that job ended without its outcome. */
  queued?: string;
  ended: number;
  runs: number;
}
interface SplitRun extends Tracked {
  spec: SplitSpec;
  gen: number;
  commit?: Commit;
  /** Times its blocks were found lost. */
  lost: number;
}
interface TaskRun extends Tracked {
  id: number;
  phase: number;
  partitions: number[];
  reduce: GatherTask['reduce'];
  done: boolean;
  /** Splits re-run for it (their blocks were lost): it is enqueued again once they commit. */
  waiting?: Set<number>;
}

export class ClusterRun {
  readonly #link: Link;
  readonly #queue: Queue;
  readonly #claim: ClusterClaim;
  readonly #plan: RunPlan;
  readonly splits = new Map<number, SplitRun>();
  readonly #tasks = new Map<string, TaskRun>(); // by result field
  #results: [TaskRun, [number, unknown][]][] = [];
  #events: number;
  #phases = 0;
  #partitionsDone = 0;
  #lastCheck = 0;
  #noWorkerSince: number | undefined;
  /** Gather attempts run again (failed, or their blocks lost). */
  gatherRetried = 0;
  scatterRetried = 0;
  #committed: (s: SplitRun) => void = () => undefined;

  constructor(link: Link, queue: Queue, claim: ClusterClaim, plan: RunPlan) {
    this.#link = link;
    this.#queue = queue;
    this.#claim = claim;
    this.#plan = plan;
    this.#events = claim.events;
  }

  /** Adds a split: committed by an earlier run (resumed: true) or enqueued. */
  async addSplit(spec: SplitSpec): Promise<SplitRun> {
    const index = spec.index;
    const s: SplitRun = { spec, gen: this.#claim.gens.get(index) ?? 0, attempt: 1, causes: [], ended: 0, runs: 0, lost: 0 };
    this.splits.set(index, s);
    const commit = this.#claim.commits.get(index);
    if (commit) s.commit = commit;
    else await this.#enqueueSplit(s);
    return s;
  }

  /** Called with each split as its commit is seen. */
  onCommit(fn: (s: SplitRun) => void): void {
    this.#committed = fn;
  }

  /** Polls until `done()`; throws what ends the job. */
  async until(done: () => boolean): Promise<void> {
    for (;;) {
      this.#plan.signal?.throwIfAborted();
      await this.#step();
      if (done()) return;
      await sleep(POLL_MS);
    }
  }

  /** Runs gather tasks over `batches` of partitions; yields each partition's result as its task's comes. */
  async *gather<R>(batches: number[][], reduce: GatherTask['reduce']): AsyncGenerator<[number, R]> {
    const phase = ++this.#phases;
    this.#partitionsDone = 0;
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
    for (const t of tasks) this.#tasks.set(this.#field(t), t);
    try {
      await this.#enqueueTasks(tasks);
      let left = tasks.length;
      while (left > 0) {
        await this.until(() => this.#results.length > 0);
        for (const [t, results] of this.#results.splice(0)) {
          if (t.phase !== phase) continue;
          left--;
          yield* results as [number, R][];
        }
      }
    } finally {
      for (const t of tasks) this.#tasks.delete(this.#field(t));
    }
  }

  /** Partition `p`'s bytes, from the committed blocks (splits whose blocks were lost scattered again first). */
  async partition(p: number): Promise<Buffer[]> {
    for (;;) {
      const { blocks, splits } = this.#blocksOf([p]);
      const read = await readBlocks(this.#link, blocks[0]!);
      if ('chunks' in read) return read.chunks;
      const lost = [...new Set(read.lost.map((i) => splits[0]![i]!))];
      await this.#rerun(lost, read.why);
      await this.until(() => lost.every((s) => this.splits.get(s)!.commit));
    }
  }

  #field(t: TaskRun): string {
    return `${this.#claim.run}:${t.phase}:${t.id}`;
  }

  /** Each of `partitions`' committed blocks in split order, and the split of each. */
  #blocksOf(partitions: number[]): { blocks: Block[][]; splits: number[][] } {
    const at = new Map(partitions.map((p, i) => [p, i]));
    const blocks = partitions.map((): Block[] => []);
    const splits = partitions.map((): number[] => []);
    const ordered = [...this.splits.values()].sort((a, b) => a.spec.index - b.spec.index);
    for (const s of ordered) {
      for (const b of s.commit!.blocks) {
        const i = at.get(b[0]);
        if (i === undefined) continue;
        blocks[i]!.push(b);
        splits[i]!.push(s.spec.index);
      }
    }
    return { blocks, splits };
  }

  async #enqueueSplit(s: SplitRun): Promise<void> {
    const spec = s.spec.kind === 'records' ? { ...s.spec, records: [], unsendable: undefined } : s.spec;
    const data: ScatterJob = {
      kind: 'scatter',
      job: this.#claim.keys.name,
      run: this.#claim.run,
      attempt: s.attempt,
      gen: s.gen,
      split: spec,
      task: this.scatterTask!,
      ttl: this.#claim.ttl,
    };
    await this.#add(s, `${this.#claim.keys.name}.${this.#claim.run}.s${s.spec.index}.g${s.gen}.a${s.attempt}.r${s.runs}`, data);
  }

  /** What every scatter session of the job does (set before the first split is added). */
  scatterTask: ScatterJob['task'] | undefined;

  async #enqueueTasks(tasks: TaskRun[]): Promise<void> {
    for (const t of tasks) {
      const { blocks, splits } = this.#blocksOf(t.partitions);
      const data: GatherJob = {
        kind: 'gather',
        job: this.#claim.keys.name,
        run: this.#claim.run,
        attempt: t.attempt,
        task: t.id,
        phase: t.phase,
        partitions: t.partitions,
        blocks,
        splits,
        reduce: t.reduce,
        ttl: this.#claim.ttl,
      };
      await this.#add(t, `${this.#claim.keys.name}.${this.#claim.run}.p${t.phase}.t${t.id}.a${t.attempt}.r${t.runs}`, data);
    }
  }

  async #add(item: Tracked, id: string, data: object): Promise<void> {
    item.queued = id;
    item.ended = 0;
    await this.#link.call('enqueue', () =>
      this.#queue.add(id.split('.')[2]!, data, { jobId: id, removeOnComplete: true, removeOnFail: true }),
    );
  }

  async #step(): Promise<void> {
    if (Date.now() - this.#lastCheck >= CHECK_MS) {
      this.#lastCheck = Date.now();
      await this.#claim.check();
      await this.#checkWorkers();
      await this.#reconcile();
    }
    await this.#readEvents();
    await this.#readCommits();
    await this.#readResults();
  }

  async #readCommits(): Promise<void> {
    const pending = [...this.splits.values()].filter((s) => !s.commit && s.queued);
    if (pending.length === 0) return;
    const keys = this.#claim.keys;
    const found = await this.#link.call('read commits', (c) => c.hmget(keys.commits, ...pending.map((s) => String(s.spec.index))));
    for (const [i, text] of found.entries()) {
      if (text === null) continue;
      const s = pending[i]!;
      const commit = JSON.parse(text) as Commit;
      if (commit.gen !== s.gen) {
        // an attempt of a withdrawn generation (Redis lost the generation's change): withdrawn again
        await this.#withdraw(s, s.gen, commit.blocks);
        continue;
      }
      s.commit = commit;
      s.queued = undefined;
      this.#committed(s);
      for (const t of this.#tasks.values()) {
        if (!t.waiting?.delete(s.spec.index) || t.waiting.size > 0) continue;
        const uncommitted = [...this.splits.values()].filter((x) => !x.commit); // re-run for other tasks: a task reads every split
        if (uncommitted.length > 0) {
          t.waiting = new Set(uncommitted.map((x) => x.spec.index));
          continue;
        }
        t.waiting = undefined;
        t.attempt++;
        this.gatherRetried++;
        await this.#enqueueTasks([t]);
      }
    }
  }

  async #readResults(): Promise<void> {
    const pending = [...this.#tasks.values()].filter((t) => !t.done && t.queued);
    if (pending.length === 0) return;
    const keys = this.#claim.keys;
    const found = await this.#link.call('read results', (c) => c.hmget(keys.gathered, ...pending.map((t) => this.#field(t))));
    for (const [i, text] of found.entries()) {
      if (text === null) continue;
      const t = pending[i]!;
      const { key } = JSON.parse(text) as Gathered;
      const bytes = await this.#link.call('read result', (c) => c.getBuffer(key));
      if (bytes === null) {
        // recorded, then lost (a failover): gathered again
        await this.#link.call('read result', (c) => c.hdel(keys.gathered, this.#field(t)));
        t.runs++;
        await this.#enqueueTasks([t]);
        continue;
      }
      t.done = true;
      t.queued = undefined;
      this.#results.push([t, v8.deserialize(bytes) as [number, unknown][]]);
      this.#plan.progress({
        phase: 'gather',
        partitionsDone: (this.#partitionsDone += t.partitions.length),
        partitions: this.#plan.partitions,
      });
      await this.#link.call('delete result', (c) => c.unlink(key));
    }
  }

  async #readEvents(): Promise<void> {
    const keys = this.#claim.keys;
    const texts = await this.#link.call('read events', (c) => c.lrange(keys.events, this.#events, -1));
    this.#events += texts.length;
    for (const text of texts) {
      const e = JSON.parse(text) as ClusterEvent;
      if (e.run !== this.#claim.run) continue; // a task of an earlier run of the job
      if (e.type === 'lost') {
        const t = this.#tasks.get(`${e.run}:${e.phase}:${e.id}`);
        if (!t || t.done || t.attempt !== e.attempt || t.waiting) continue;
        t.queued = undefined;
        t.waiting = new Set(e.splits);
        await this.#rerun(e.splits, e.why);
        continue;
      }
      const item = e.kind === 'scatter' ? this.splits.get(e.id) : this.#tasks.get(`${e.run}:${e.phase}:${e.id}`);
      if (!item || item.attempt !== e.attempt || ('commit' in item && item.commit) || ('done' in item && item.done)) continue;
      const error = errorFromData(e.error);
      if (!(error instanceof BadRecordError)) error.message += ` (on worker ${e.worker})`;
      if (final(error)) throw error;
      item.causes.push(error);
      const what =
        'spec' in item ? describeSplit((item as SplitRun).spec) : `gather task of partitions ${(item as TaskRun).partitions.join(', ')}`;
      if (item.causes.length > this.#plan.retries) throw gaveUp(what, item.causes);
      item.attempt++;
      if ('spec' in item) {
        this.scatterRetried++;
        await this.#enqueueSplit(item as SplitRun);
      } else {
        this.gatherRetried++;
        await this.#enqueueTasks([item as TaskRun]);
      }
    }
  }

  /** Withdraws the commits of `splits` (their blocks were lost) and scatters them again. */
  async #rerun(splits: number[], why: string): Promise<void> {
    for (const index of splits) {
      const s = this.splits.get(index)!;
      if (!s.commit) continue; // withdrawn already, for another task
      if (++s.lost > this.#plan.retries + 1)
        throw new BlockLostError(
          `${describeSplit(s.spec)}: its output was lost in Redis ${s.lost} times (${why}); the job stops rather than return a wrong result`,
        );
      const old = s.commit;
      s.commit = undefined;
      await this.#withdraw(s, s.gen + 1, old.blocks);
      s.attempt = 1;
      s.causes = [];
      await this.#enqueueSplit(s);
    }
  }

  async #withdraw(s: SplitRun, gen: number, blocks: Block[]): Promise<void> {
    const keys = this.#claim.keys;
    await this.#link.call('withdraw', (c) => c.eval(WITHDRAW, 2, keys.commits, keys.gens, String(s.spec.index), String(gen)));
    s.gen = gen;
    await deleteBlocks(this.#link, blocks).catch(() => undefined);
  }

  /** Tasks whose BullMQ job ended (or vanished) twice in a row without an outcome seen: enqueued again. */
  async #reconcile(): Promise<void> {
    const items: [Tracked, () => Promise<void>][] = [];
    for (const s of this.splits.values()) if (!s.commit && s.queued) items.push([s, () => this.#enqueueSplit(s)]);
    for (const t of this.#tasks.values()) if (!t.done && t.queued) items.push([t, () => this.#enqueueTasks([t])]);
    const states = await Promise.all(items.map(([item]) => this.#link.call('check tasks', () => this.#queue.getJobState(item.queued!))));
    for (const [i, state] of states.entries()) {
      const [item, again] = items[i]!;
      if (state !== 'completed' && state !== 'failed' && state !== 'unknown') continue;
      if (++item.ended < 2) continue;
      item.runs++;
      await again();
    }
  }

  async #checkWorkers(): Promise<void> {
    const { workers } = await liveWorkers(this.#link, this.#link.settings.queue);
    if (workers > 0) return void (this.#noWorkerSince = undefined);
    this.#noWorkerSince ??= Date.now();
    if (Date.now() - this.#noWorkerSince >= this.#plan.workerWait)
      throw new NoWorkersError(
        `no partd worker listened on queue ${JSON.stringify(this.#link.settings.queue)} at Redis ${this.#link.server} for ${Math.round(this.#plan.workerWait / 1000)} s: start one on each machine with \`partd worker --redis URL --queue ${this.#link.settings.queue}\``,
      );
  }

  /** Counts over the committed splits. */
  counts(): { records: number; bad: number; bytes: number; read: number } {
    let records = 0,
      bad = 0,
      bytes = 0,
      read = 0;
    for (const s of this.splits.values()) {
      if (!s.commit) continue;
      records += s.commit.records;
      bad += s.commit.bad;
      bytes += s.commit.bytes;
      read += fileBytes(s.spec);
    }
    return { records, bad, bytes, read };
  }
}
