/** The worker pool: Piscina threads running workers/shuffle.ts, and task dispatch that stops at the first failure. */
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

/** Runs `fn` with a pool of `threads` workers, and always shuts the pool down. */
export async function withPool<T>(threads: number, fn: (run: <R>(name: string, task: unknown) => Promise<R>) => Promise<T>): Promise<T> {
  const pool = new Piscina({ filename: workerFile(), minThreads: threads, maxThreads: threads, idleTimeout: 60_000, concurrentTasksPerWorker: 1 });
  const abort = new AbortController();
  setMaxListeners(0, abort.signal); // one listener per queued task
  let firstError: unknown;
  const run = <R>(name: string, task: unknown): Promise<R> =>
    pool.run(task, { name, signal: abort.signal }).then(unwrap<R>).catch((e: unknown) => {
      // The first failure stops the rest; their AbortErrors are not the story.
      if (firstError === undefined) {
        firstError = e;
        abort.abort();
      }
      throw firstError;
    }) as Promise<R>;
  try {
    return await fn(run);
  } finally {
    await pool.destroy();
  }
}
