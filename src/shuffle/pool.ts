/** The worker pool: Piscina threads running workers/shuffle.ts, with per-task timeouts and a job-wide abort. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setMaxListeners } from 'node:events';
import { Piscina } from 'piscina';
import { unwrap } from './outcome.js';

/** The compiled worker file (Piscina loads it itself, outside any TypeScript loader). */
function workerFile(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // Compiled: dist/src/shuffle → dist/workers. From sources (ts-jest): src/shuffle → dist/workers.
  for (const candidate of [path.resolve(here, '../../workers/entry.cjs'), path.resolve(here, '../../dist/workers/entry.cjs')]) {
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error('partd: dist/workers/entry.cjs is missing; run `npm run build` first');
}

/** How long a `graceful` task may run on after an abort. */
const GRACE_MS = 2000;

/** A task that outlived its timeout; its worker was terminated. */
export class TaskTimeoutError extends Error {
  override name = 'TaskTimeoutError';
}

/** A pool of worker threads for one job (scatter, then gather, on the same threads). */
export class WorkerPool {
  readonly #pool: Piscina;
  readonly #abort = new AbortController();
  /** Aborted GRACE_MS after `#abort`: what stops `graceful` tasks that did not finish by then. */
  readonly #late = new AbortController();

  constructor(readonly threads: number, options: { heapMB?: number; signal?: AbortSignal } = {}) {
    this.#pool = new Piscina({
      filename: workerFile(),
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: 60_000,
      concurrentTasksPerWorker: 1,
      resourceLimits: options.heapMB ? { maxOldGenerationSizeMb: options.heapMB } : undefined,
    });
    setMaxListeners(0, this.#abort.signal, this.#late.signal); // one listener per queued task
    options.signal?.addEventListener('abort', () => this.abort(options.signal!.reason), { once: true });
  }

  /** True once the job was aborted (by its signal or a fatal failure). */
  get aborted(): boolean {
    return this.#abort.signal.aborted;
  }

  /**
   * Runs a task. A worker that throws, exits, runs out of memory or outlives `timeoutMs`
   * (then it is terminated) rejects this task only; Piscina replaces the worker. A `graceful`
   * task (one that runs lmdb-js's native code, which a terminated thread turns into a process
   * abort) is left to finish when the job aborts, and terminated only GRACE_MS later.
   */
  async run<R>(name: 'scatter' | 'gather', task: unknown, options: { timeoutMs?: number; signal?: AbortSignal; transferList?: unknown[]; graceful?: boolean } = {}): Promise<R> {
    const { timeoutMs } = options;
    const timeout = timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs);
    const job = options.graceful ? this.#late.signal : this.#abort.signal;
    const signal = AbortSignal.any([job, ...(timeout ? [timeout] : []), ...(options.signal ? [options.signal] : [])]);
    try {
      return unwrap<R>(await this.#pool.run(task, { name, signal, transferList: options.transferList as never }));
    } catch (e) {
      if (timeout?.aborted && !this.aborted) throw new TaskTimeoutError(`no result within ${timeoutMs} ms; the worker was terminated`);
      throw e;
    }
  }

  /** Stops every task: running ones are terminated (graceful ones GRACE_MS later), queued ones rejected. */
  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.#abort.abort(reason);
    setTimeout(() => this.#late.abort(reason), GRACE_MS).unref();
  }

  /** Stops the threads. */
  async close(): Promise<void> {
    await this.#pool.destroy();
  }
}
