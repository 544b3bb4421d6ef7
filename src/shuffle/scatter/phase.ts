/**
 * The scatter phase, coordinator side. Splits wait in a queue; one scatter *session* per
 * worker thread asks for the next split each time it has read one (morsel-driven: a thread
 * slowed by a busy core reads fewer splits, so the threads end together). This thread commits
 * every session's parts (it is the store's only writer, see scatter/session.ts) and retries: when a
 * session fails, the split it was reading is blamed (it has `retries` retries), the splits it
 * read but had not committed go back to the queue, and a new session takes its place.
 */
import { randomUUID } from 'node:crypto';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { keyId } from '../../keys.js';
import { appendEntriesIf } from '../../stores/lmdb/lmdb.js';
import type { Entry } from '../../partd.js';
import { commitGuard, grantLease, markerKey, readMarkers } from '../runtime/commits.js';
import { trigger } from '../runtime/faults.js';
import type { Plan } from '../options.js';
import { TaskTimeoutError } from '../../errors.js';
import type { WorkerPool } from '../runtime/pool.js';
import { asError } from '../runtime/outcome.js';
import { giveUp, retryable } from '../runtime/retries.js';
import { RIGHT_SPLITS, type Assignment, type ScatterResult, type ScatterTask, type SessionMessage, type SplitRead } from '../protocol.js';
import type { ScatterMode } from '../protocol.js';
import { describeSplit, RECORDS_BATCH, type SplitSpec } from '../input/splits.js';
import { Progress, SplitQueue, committedSum, fileBytes, final, type SplitState } from './split-queue.js';

/** Counts of one shuffle. */
export interface ShuffleStats {
  records: number;
  badRecords: number;
  bytesRead: number;
  bytesAppended: number;
  splits: number;
  partitions: number;
  workers: number;
  /** Scatter attempts (a session's split) that failed and were retried. */
  retried: number;
  /**
   * Gather attempts that failed and were retried, counted into this object when a gather phase
   * ends: by `groupBy` (in `Groups.stats`) and `iterateGroups` (in the object `onStats` was given,
   * once the iteration ends); on `ShuffleHandle.stats`, the sum over its `gather()` calls so far
   * (each call's own count is its result's `stats.gatherRetried`). 0 until then.
   */
  gatherRetried: number;
  /** Of `records`, those an earlier run on a kept store had committed: not read again by this one. */
  resumed: number;
  scatterSeconds: number;
}

const MiB = 1 << 20;
/** A session commits once it has read this much since its last commit: what a retry may redo. */
const RETRY_BOUND = { records: 8_000_000, bytes: 256 * MiB };

/** How much of a retry bound a split fills. */
function weight(spec: SplitSpec): number {
  if (spec.kind === 'records') return 1; // the coordinator holds the batch until it is committed
  return spec.kind === 'range' ? (spec.end - spec.start) / RETRY_BOUND.records : fileBytes(spec) / RETRY_BOUND.bytes;
}

/** What the sessions of one phase share. */
interface Phase {
  p: Plan;
  pool: WorkerPool;
  queue: SplitQueue;
  states: Map<number, SplitState>;
  task: Omit<ScatterTask, 'port'>;
  progress: Progress;
}

/** One scatter session: a pool task that reads the splits it is handed, and its commits. */
class Session {
  /** Splits handed out and not yet committed to their end. */
  readonly held = new Set<SplitState>();
  /** The split being read: blamed when the session fails. */
  current: SplitState | undefined;
  error: Error | undefined;
  readonly #lease = randomUUID(); // per session: a later session's lease never matches an earlier one's
  readonly #failed = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #commits = 0;
  #awaited = Infinity;
  #allCommitted!: () => void;
  #sinceCommit = 0;

  constructor(readonly phase: Phase) {}

  async run(): Promise<void> {
    const { port1, port2 } = new MessageChannel();
    port1.on('message', (m: SessionMessage) =>
      m.type === 'next' ? void this.#next(m.read, port1).catch((e: unknown) => this.#fail(asError(e))) : this.#commit(m),
    );
    const committed = new Promise<void>((resolve) => (this.#allCommitted = resolve));
    // Listened to from the start: a timeout may fire before the last commits are awaited.
    const failed = new Promise<never>((_, reject) =>
      this.#failed.signal.addEventListener('abort', () => reject(this.error), { once: true }),
    );
    failed.catch(() => undefined);
    try {
      const task: ScatterTask = { ...this.phase.task, port: port2 };
      const result = await this.phase.pool.run<ScatterResult>('scatter', task, { signal: this.#failed.signal, transferList: [port2] });
      this.#awaited = result.commits;
      if (this.#commits < this.#awaited) await Promise.race([committed, failed]);
      if (this.held.size > 0) throw new Error(`a scatter session ended with ${this.held.size} split(s) uncommitted`);
    } catch (e) {
      throw this.error ?? e; // a refused commit or a timeout stopped the worker: report why
    } finally {
      clearTimeout(this.#timer);
      this.#failed.abort(); // over: a split being handed out goes back to the queue
      port1.close();
    }
  }

  #fail(error: Error): void {
    this.error ??= error;
    this.#failed.abort(this.error);
  }

  /** Bounds the split being read (and the final commit) by the task timeout. */
  #arm(): void {
    const ms = this.phase.p.taskTimeout;
    clearTimeout(this.#timer);
    if (ms !== undefined)
      this.#timer = setTimeout(() => this.#fail(new TaskTimeoutError(`no result within ${ms} ms; the worker was terminated`)), ms);
  }

  /** Hands the session its next split (or null: none left). */
  async #next(read: SplitRead | undefined, port: MessagePort): Promise<void> {
    clearTimeout(this.#timer);
    if (read) this.phase.progress.read(this.phase.states.get(read.split)!, read);
    const s = await this.phase.queue.take();
    if (s && !this.#failed.signal.aborted)
      await grantLease(this.phase.p.store, s.spec.index, this.#lease).catch((e: Error) => this.#fail(e));
    if (this.#failed.signal.aborted) {
      if (s) this.phase.queue.returnSplits([s]);
      return;
    }
    let assignment: Assignment | null = null;
    if (s) {
      this.held.add(s);
      this.current = s;
      this.#sinceCommit += weight(s.spec);
      const commit = this.#sinceCommit >= 1;
      if (commit) this.#sinceCommit = 0;
      assignment = {
        split: s.spec,
        lease: this.#lease,
        attempt: s.causes.length + 1,
        from: s.committed.at(-1)?.to ?? 0,
        part: s.committed.length,
        commit,
      };
    }
    this.#arm();
    post(port, assignment, s, this.phase.task.join?.side);
  }

  /** Commits a session's parts as one guarded transaction; the first failure stops the session. */
  #commit(m: Extract<SessionMessage, { type: 'commit' }>): void {
    if (this.error) return;
    const { p, states } = this.phase;
    let blamed: SplitState | undefined;
    try {
      const markers: Entry<Uint8Array>[] = m.parts.map((x) => [keyId(markerKey(x.split, x.part)), Buffer.from(JSON.stringify(x.marker))]);
      appendEntriesIf(p.store, [...m.entries, ...markers], commitGuard(m.parts), () => {
        for (const x of m.parts) {
          blamed = states.get(x.split);
          trigger(p.faults, 'commit', { split: x.split, attempt: blamed!.causes.length + 1 })(x.part);
        }
      });
    } catch (e) {
      if (blamed) this.current = blamed; // a commit fault names its split
      return this.#fail(asError(e));
    }
    for (const x of m.parts) {
      const s = states.get(x.split)!;
      s.committed.push(x.marker);
      if (!x.marker.final) continue;
      this.held.delete(s);
      if (s.spec.kind === 'records') s.spec = { ...s.spec, records: [] }; // committed: the batch is not needed again
    }
    if (++this.#commits >= this.#awaited) this.#allCommitted();
    this.phase.progress.committed(m.parts.reduce((n, x) => n + x.marker.bytes, 0));
  }

  /** The split a failure is blamed on: the one being read, else the last one still held. */
  blamed(): SplitState | undefined {
    return this.current && (this.held.has(this.current) || this.held.size === 0) ? this.current : [...this.held].at(-1);
  }
}

/**
 * Sends a session its assignment. A records batch that cannot be sent (an item holds a
 * function or a symbol, say) is sent again with those items replaced by null and listed as
 * unsendable, which the worker reports as bad records; its split keeps that form for retries.
 * The items are looked for only once sending failed: nothing per record otherwise.
 */
function post(port: MessagePort, assignment: Assignment | null, s: SplitState | null, side?: 0 | 1): void {
  try {
    return port.postMessage(assignment);
  } catch (e) {
    if (assignment === null || s === null || s.spec.kind !== 'records') throw e;
    const marked = markUnsendable(s.spec, side);
    if (marked.unsendable!.length === (s.spec.unsendable?.length ?? 0)) throw e; // no item fails alone: not an item's fault
    s.spec = assignment.split = marked;
  }
  port.postMessage(assignment);
}

/** The batch with each item that cannot be cloned replaced by null and listed in `unsendable`, numbered over the whole input (a join's: over its side). */
export function markUnsendable(spec: Extract<SplitSpec, { kind: 'records' }>, side?: 0 | 1): Extract<SplitSpec, { kind: 'records' }> {
  const [input, first] = side === undefined ? ['input', 0] : side === 0 ? ['left', 0] : ['right', RIGHT_SPLITS];
  const records = spec.records.slice();
  const unsendable: [number, string][] = [...(spec.unsendable ?? [])];
  records.forEach((record, position) => {
    try {
      structuredClone(record);
    } catch (e) {
      const err = asError(e);
      records[position] = null;
      unsendable.push([
        position,
        `${input}.records item ${(spec.index - first) * RECORDS_BATCH + position}: cannot be sent to a worker thread (${err.name}: ${err.message})`,
      ]);
    }
  });
  return { ...spec, records, unsendable };
}

/** Runs the scatter phase on `pool` (`mode`: a groupBy's, a sort's or a join side's sessions); on failure an owned store is removed. */
export async function scatterPhase(p: Plan, pool: WorkerPool, mode: ScatterMode = {}): Promise<ShuffleStats> {
  const t0 = performance.now();
  const states = new Map<number, SplitState>();
  const queue = new SplitQueue();
  const input = p.input;
  const records = 'records' in input;
  const stats: ShuffleStats = {
    records: 0,
    badRecords: 0,
    bytesRead: 0,
    bytesAppended: 0,
    splits: 0,
    partitions: p.partitions,
    workers: p.workers,
    retried: 0,
    gatherRetried: 0,
    resumed: 0,
    scatterSeconds: 0,
  };
  const count = (field: 'records' | 'bad' | 'bytes') => [...states.values()].reduce((n, s) => n + committedSum(s, field), 0);
  const progress = new Progress(p, states, !records);
  const add = async (spec: SplitSpec) => {
    const s: SplitState = { spec, committed: await readMarkers(p.store, spec.index), causes: [] };
    states.set(spec.index, s);
    const resumed = committedSum(s, 'records');
    stats.resumed += resumed;
    if (!final(s)) return queue.push(s);
    // committed by a former run: not redone
    progress.read(s, { records: resumed });
    progress.committed(committedSum(s, 'bytes'));
  };
  const phase: Phase = {
    p,
    pool,
    queue,
    states,
    progress,
    task: {
      key: p.key,
      partitions: p.partitions,
      budget: Math.max(MiB, Math.floor(p.memory / p.workers)),
      onBadRecord: p.onBadRecord,
      ...mode,
      faults: p.faults,
    },
  };

  /** Runs sessions, one after another as they fail, until the queue is empty. */
  const sessions = async (): Promise<void> => {
    for (;;) {
      const session = new Session(phase);
      try {
        return await session.run();
      } catch (e) {
        const err = retryable(p, pool, e);
        queue.returnSplits(session.held);
        const blamed = session.blamed();
        if (!blamed) giveUp(pool, 'a scatter session', [err]);
        blamed.causes.push(err);
        if (blamed.causes.length > p.retries) giveUp(pool, describeSplit(blamed.spec), blamed.causes);
        stats.retried++;
      }
    }
  };

  try {
    const running = Promise.all(Array.from({ length: p.workers }, sessions));
    running.catch(() => undefined); // observed below; the input loop may still be running
    if (records) {
      // Batches from the calling thread; at most 2 per worker wait (backpressure).
      let batch: unknown[] = [];
      let index = mode.join?.side === 1 ? RIGHT_SPLITS : 0; // a join's right input: its own split numbers
      const send = async () => {
        await add({ kind: 'records', index: index++, records: batch });
        batch = [];
        await Promise.race([queue.room(2 * p.workers), running]);
      };
      for await (const record of (input as { records: AsyncIterable<unknown> }).records) {
        p.signal?.throwIfAborted();
        batch.push(record);
        if (batch.length >= RECORDS_BATCH) await send();
      }
      if (batch.length > 0 || index === 0) await send();
    } else {
      for (const spec of p.splits) await add(spec);
    }
    queue.close();
    await running;
    if (pool.aborted) throw pool.reason; // every session done, yet the job was ended (a thread failed outside any task)
  } catch (e) {
    pool.abort(e);
    await p.release();
    if (p.ownsStore) await p.store.close();
    throw p.signal?.aborted ? p.signal.reason : e;
  }
  Object.assign(stats, { records: count('records'), badRecords: count('bad'), bytesAppended: count('bytes'), splits: states.size });
  stats.bytesRead = [...states.values()].reduce((n, s) => n + fileBytes(s.spec), 0);
  stats.scatterSeconds = (performance.now() - t0) / 1000;
  return stats;
}
