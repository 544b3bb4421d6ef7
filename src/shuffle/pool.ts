/** The worker pool: Piscina threads running workers/shuffle.ts; the first failure stops the rest. */
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
  for (const candidate of [path.resolve(here, '../../workers/shuffle.js'), path.resolve(here, '../../dist/workers/shuffle.js')]) {
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error('partd: dist/workers/shuffle.js is missing; run `npm run build` first');
}

/** A pool of worker threads for one job (scatter, then gather, on the same threads). */
export class WorkerPool {
  readonly #pool: Piscina;
  readonly #abort = new AbortController();
  #firstError: unknown;

  constructor(readonly threads: number) {
    this.#pool = new Piscina({ filename: workerFile(), minThreads: threads, maxThreads: threads, idleTimeout: 60_000, concurrentTasksPerWorker: 1 });
    setMaxListeners(0, this.#abort.signal); // one listener per queued task
  }

  /** Runs a task; after any task failed, every task rejects with that first error. */
  run<R>(name: 'scatter' | 'gather', task: unknown): Promise<R> {
    return this.#pool
      .run(task, { name, signal: this.#abort.signal })
      .then(unwrap<R>)
      .catch((e: unknown) => {
        // The first failure stops the rest; their AbortErrors are not the story.
        if (this.#firstError === undefined) {
          this.#firstError = e;
          this.#abort.abort();
        }
        throw this.#firstError;
      });
  }

  /** Stops the threads. */
  async close(): Promise<void> {
    await this.#pool.destroy();
  }
}

/** Runs `fn` with a pool of `threads` workers, and always shuts the pool down. */
export async function withPool<T>(threads: number, fn: (pool: WorkerPool) => Promise<T>): Promise<T> {
  const pool = new WorkerPool(threads);
  try {
    return await fn(pool);
  } finally {
    await pool.close();
  }
}
