/** The worker pool: Piscina threads running workers/shuffle.ts, with per-task timeouts and a job-wide abort. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { TaskTimeoutError, WorkerFailedError, WorkerOutOfMemoryError } from '../../errors.js';
import { asError, unwrap } from './outcome.js';
import { threadEnv } from './thread-env.js';

/** The compiled worker file (Piscina loads it itself, outside any TypeScript loader). */
function workerFile(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // Compiled: dist/src/shuffle/runtime → dist/workers. From sources (ts-jest): src/shuffle/runtime → dist/workers.
  for (const candidate of [path.resolve(here, '../../../workers/entry.cjs'), path.resolve(here, '../../../dist/workers/entry.cjs')]) {
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error('partd: dist/workers/entry.cjs is missing; run `npm run build` first');
}

/** How long a `graceful` task may run on after an abort. */
const GRACE_MS = 2000;

/** A worker thread's failure as the caller sees it: running out of memory says so, with the heap limit. */
function workerError(e: unknown, heapMB: number | undefined, outsideTask = false): Error {
  const err = asError(e);
  if ((err as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY') {
    return new WorkerOutOfMemoryError(
      `a worker thread ran out of memory (${heapMB === undefined ? "Node's default heap limit" : `workerHeapMB: ${heapMB}`}): ${err.message}`,
      { cause: err },
    );
  }
  if (outsideTask) return new WorkerFailedError(`a worker thread failed outside any task: ${err.message}`, { cause: err });
  return err;
}

/** A pool of worker threads for one job (scatter, then gather, on the same threads). */
export class WorkerPool {
  readonly #pool: Piscina;
  readonly #abort = new AbortController();
  /** Aborted GRACE_MS after `#abort`: what stops `graceful` tasks that did not finish by then. */
  readonly #late = new AbortController();
  readonly #heapMB: number | undefined;
  /** A thread's failure outside any task: it ended the job, and every task rejects with it. */
  #failure: Error | undefined;
  /** Errors of threads Piscina was terminating when they failed (their task had been rejected already). */
  readonly #fromTerminated = new Set<unknown>();
  /** Threads Piscina is terminating, until they exit (see `close`). */
  readonly #exiting = new Set<Promise<void>>();
  /** Set once `close` was called. */
  #closed: Promise<void> | undefined;
  #destroyed: Promise<void> = Promise.resolve();

  constructor(
    readonly threads: number,
    options: { heapMB?: number; signal?: AbortSignal } = {},
  ) {
    this.#heapMB = options.heapMB;
    this.#pool = new Piscina({
      filename: workerFile(),
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: 60_000,
      concurrentTasksPerWorker: 1,
      env: threadEnv(), // see thread-env.ts
      resourceLimits: options.heapMB ? { maxOldGenerationSizeMb: options.heapMB } : undefined,
    });
    // Piscina emits 'error' for a thread that fails while it runs no task (unlistened, that
    // killed the process): at start-up (a heap too small to start), idle, or while Piscina
    // terminates it after an abort (running out of memory before it stops).
    this.#pool.on('error', (e: unknown) => this.#threadFailed(e));
    this.#pool.on('workerDestroy', (w: { id: number }) => this.#terminating(w.id));
    setMaxListeners(0, this.#abort.signal, this.#late.signal); // one listener per queued task
    options.signal?.addEventListener('abort', () => this.abort(options.signal!.reason), { once: true });
  }

  /**
   * Piscina is terminating a live thread (its task was aborted): an error it reports before
   * it stops is no news. Its 'error' listener runs after Piscina's, so it marks the error
   * before `#threadFailed` looks (in a microtask). A thread that already died has id -1.
   */
  #terminating(id: number): void {
    const worker = id >= 0 ? this.#pool.threads.find((t: Worker) => t.threadId === id) : undefined;
    if (!worker) return;
    worker.on('error', (e: unknown) => this.#fromTerminated.add(e));
    const exited: Promise<void> = new Promise((resolve) => worker.once('exit', () => resolve()));
    this.#exiting.add(exited);
    void exited.then(() => this.#exiting.delete(exited));
  }

  #threadFailed(e: unknown): void {
    queueMicrotask(() => {
      if (this.#fromTerminated.delete(e) || this.aborted || this.#closed) return; // the job ends anyway, or its task was rejected already
      // Piscina stops replacing threads that fail as they start, so queued tasks would wait forever: the job ends.
      this.#failure = workerError(e, this.#heapMB, true);
      this.abort(this.#failure);
    });
  }

  /** True once the job was aborted (by its signal or a fatal failure). */
  get aborted(): boolean {
    return this.#abort.signal.aborted;
  }

  /** Why the job was aborted (undefined while it was not). */
  get reason(): unknown {
    return this.#abort.signal.reason;
  }

  /**
   * Runs a task. A worker that throws, exits, runs out of memory or outlives `timeoutMs`
   * (then it is terminated) rejects this task only; Piscina replaces the worker. A thread
   * that fails outside any task ends the job: every task rejects with its error. A `graceful`
   * task (one that runs lmdb-js's native code, which a terminated thread turns into a process
   * abort) is left to finish when the job aborts, and terminated only GRACE_MS later.
   */
  async run<R>(
    name: 'scatter' | 'gather' | 'sample',
    task: unknown,
    options: { timeoutMs?: number; signal?: AbortSignal; transferList?: unknown[]; graceful?: boolean } = {},
  ): Promise<R> {
    const { timeoutMs } = options;
    const timeout = timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs);
    const job = options.graceful ? this.#late.signal : this.#abort.signal;
    const signal = AbortSignal.any([job, ...(timeout ? [timeout] : []), ...(options.signal ? [options.signal] : [])]);
    let bytes: Uint8Array;
    try {
      bytes = (await this.#pool.run(task, { name, signal, transferList: options.transferList as never })) as Uint8Array;
    } catch (e) {
      if (this.#failure) throw this.#failure;
      if (timeout?.aborted && !this.aborted) throw new TaskTimeoutError(`no result within ${timeoutMs} ms; the worker was terminated`);
      throw workerError(e, this.#heapMB);
    }
    return unwrap<R>(bytes);
  }

  /** Stops every task: running ones are terminated (graceful ones GRACE_MS later), queued ones rejected. */
  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.#abort.abort(reason);
    setTimeout(() => this.#late.abort(reason), GRACE_MS).unref();
  }

  /**
   * Stops the threads. Piscina's destroy() waits only for the threads it still counts: one it was
   * already terminating (an aborted task's, blocked in native code or a system call) that exits
   * later is "replaced" by new threads in a pool nobody closes. So each such exit destroys the
   * pool again, and close waits for them up to GRACE_MS (a thread blocked for good must not hang
   * the job's end).
   */
  close(): Promise<void> {
    return (this.#closed ??= this.#close());
  }

  async #close(): Promise<void> {
    await this.#destroy();
    const exiting = [...this.#exiting];
    for (const exited of exiting) void exited.then(() => this.#destroy());
    await Promise.race([Promise.all(exiting), sleep(GRACE_MS, undefined, { ref: false })]);
  }

  /** Piscina's destroy(), one at a time (one that returns while another runs lets threads start again). */
  #destroy(): Promise<void> {
    return (this.#destroyed = this.#destroyed.then(() => this.#pool.destroy()));
  }
}

/** The pool a plan runs on. */
export function poolFor(p: { workers: number; workerHeapMB?: number; signal?: AbortSignal }, threads = p.workers): WorkerPool {
  return new WorkerPool(threads, { heapMB: p.workerHeapMB, signal: p.signal });
}
