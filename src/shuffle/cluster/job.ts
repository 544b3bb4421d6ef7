/**
 * A distributed job, in the calling thread: claimed in Redis (claim.ts), its splits scattered
 * and its partitions gathered by `partd worker` processes (run.ts), its keys removed at its
 * end. What `shuffle` and `groupBy` call when given `cluster`.
 */
import v8 from 'node:v8';
import type { Queue } from 'bullmq';
import type { CheckedJob } from '../options.js';
import type { GatherTask, ScatterMode } from '../protocol.js';
import type { ShuffleStats } from '../scatter/phase.js';
import { markUnsendable } from '../scatter/phase.js';
import { gatherBatches, GATHER_TASKS_PER_THREAD } from '../gather/phase.js';
import { RECORDS_BATCH, type SplitSpec } from '../input/splits.js';
import { claimJob, type ClusterClaim } from './claim.js';
import { Link, openQueue } from './link.js';
import { ClusterRun } from './run.js';
import { liveWorkers } from './worker.js';

const MiB = 1 << 20;
/** Records batches in Redis not yet committed, at most (the coordinator waits for commits beyond). */
const RECORDS_AHEAD = 8;

/** A distributed job under way. */
export class ClusterJob {
  readonly #link: Link;
  readonly #queue: Queue;
  readonly #claim: ClusterClaim;
  readonly #run: ClusterRun;
  readonly #job: CheckedJob['checked'];
  #ended: Promise<void> | undefined;

  private constructor(link: Link, queue: Queue, claim: ClusterClaim, job: CheckedJob['checked']) {
    this.#link = link;
    this.#queue = queue;
    this.#claim = claim;
    this.#job = job;
    this.#run = new ClusterRun(link, queue, claim, { ...job, workerWait: job.cluster!.workerWait });
  }

  /** Claims the checked job in Redis (resuming it when Redis holds the same job). */
  static async start({ checked, job }: CheckedJob): Promise<ClusterJob> {
    const link = new Link(checked.cluster!);
    let queue: Queue | undefined;
    try {
      const claim = await claimJob(link, checked.name, job);
      queue = openQueue(link);
      return new ClusterJob(link, queue, claim, checked);
    } catch (e) {
      await queue?.close().catch(() => undefined);
      await link.close();
      throw e;
    }
  }

  /** P, the number of partitions. */
  get partitions(): number {
    return this.#job.partitions;
  }

  /** The job's name in Redis. */
  get name(): string {
    return this.#claim.keys.name;
  }

  /** Scatters every split on the workers (`mode`: a groupBy's combine); the scatter's counts. */
  async scatter(mode: ScatterMode): Promise<ShuffleStats> {
    const t0 = performance.now();
    const p = this.#job;
    const run = this.#run;
    const { threads } = await liveWorkers(this.#link, this.#link.settings.queue);
    run.state.scatterTask = {
      key: p.key,
      partitions: p.partitions,
      budget: Math.max(MiB, Math.floor(p.memory / Math.max(1, Math.min(threads, p.workers)))),
      onBadRecord: p.onBadRecord,
      ...mode,
    };
    let resumed = 0;
    let done = 0;
    const total = () => run.splits.size;
    const progress = () => {
      const c = run.counts();
      p.progress({
        phase: 'scatter',
        records: c.records,
        bytesRead: c.read,
        bytesTotal: p.bytesTotal,
        bytesAppended: c.bytes,
        splitsDone: done,
        splits: 'records' in p.input ? undefined : total(),
      });
    };
    run.onCommit(() => (done++, progress()));
    const add = async (spec: SplitSpec) => {
      const s = await run.addSplit(spec);
      if (s.commit) ((resumed += s.commit.records), done++);
    };
    if ('records' in p.input) {
      let batch: unknown[] = [];
      let index = 0;
      const send = async () => {
        const spec: Extract<SplitSpec, { kind: 'records' }> = { kind: 'records', index: index++, records: batch };
        batch = [];
        if (!this.#claim.commits.has(spec.index)) await this.#putRecords(spec);
        await add(spec);
        await run.until(() => [...run.splits.values()].filter((s) => !s.commit).length < RECORDS_AHEAD);
      };
      for await (const record of p.input.records as AsyncIterable<unknown>) {
        p.signal?.throwIfAborted();
        batch.push(record);
        if (batch.length >= RECORDS_BATCH) await send();
      }
      if (batch.length > 0 || index === 0) await send();
    } else {
      for (const spec of this.#claim.splits) await add(spec);
    }
    progress();
    await run.until(() => [...run.splits.values()].every((s) => s.commit));
    const c = run.counts();
    return {
      records: c.records,
      badRecords: c.bad,
      bytesRead: c.read,
      bytesAppended: c.bytes,
      splits: run.splits.size,
      partitions: p.partitions,
      workers: threads,
      retried: run.scatterRetried,
      gatherRetried: 0,
      resumed,
      scatterSeconds: (performance.now() - t0) / 1000,
    };
  }

  /** A records batch into Redis, for the worker that scatters it (v8-serialised, as postMessage would send it). */
  async #putRecords(spec: Extract<SplitSpec, { kind: 'records' }>): Promise<void> {
    let bytes: Buffer;
    try {
      bytes = v8.serialize({ records: spec.records });
    } catch {
      const marked = markUnsendable(spec);
      bytes = v8.serialize({ records: marked.records, unsendable: marked.unsendable });
    }
    const key = this.#claim.keys.records(spec.index);
    const ttl = this.#claim.ttl;
    await this.#link.call('write records', (c) => (ttl > 0 ? c.set(key, bytes, 'PX', ttl) : c.set(key, bytes)));
  }

  /** Gathers every partition on the workers; results as tasks finish. Gather retries are added to `stats`. */
  async *gather<R>(reduce: GatherTask['reduce'], stats: { gatherRetried: number }): AsyncGenerator<[number, R]> {
    const P = this.#job.partitions;
    const { threads } = await liveWorkers(this.#link, this.#link.settings.queue);
    const size = Math.max(1, Math.ceil(P / (Math.max(1, threads) * GATHER_TASKS_PER_THREAD)));
    const before = this.#run.gatherRetried;
    try {
      yield* this.#run.gather<R>(
        gatherBatches(P, size).map((b) => b.ids),
        reduce,
      );
    } finally {
      stats.gatherRetried += this.#run.gatherRetried - before;
    }
  }

  /** Partition `p`'s bytes (MessagePack frames), checked, re-scattered first where blocks were lost. */
  partition(p: number): Promise<Buffer[]> {
    return this.#run.partition(p);
  }

  /** The same bytes split by split, each split's checked (and re-scattered if lost) before it comes. */
  iterate(p: number): AsyncGenerator<Buffer[]> {
    return this.#run.iterate(p);
  }

  /** Removes the job's keys and closes its connections; again, it does nothing. */
  end(): Promise<void> {
    return (this.#ended ??= (async () => {
      try {
        await this.#claim.end();
      } finally {
        await this.#queue.close().catch(() => undefined);
        await this.#link.close();
      }
    })());
  }
}
