/**
 * Mutual exclusion on a store directory: an in-process queue (cheap, and it keeps calls of
 * one instance in order) around a lock file that other threads and processes respect
 * (proper-lockfile: an atomic `mkdir`, refreshed while held, taken over once stale after a
 * holder was killed).
 */
import lockfile from 'proper-lockfile';
import path from 'node:path';
import { Mutex } from '../mutex.js';

const STALE_MS = 5000; // proper-lockfile's minimum: a killed holder delays others this long at most.

/** A lock over one directory. */
export class DirLock {
  readonly #queue = new Mutex();
  constructor(readonly dir: string) {}

  /** Runs `fn` while holding the lock. */
  run<T>(fn: () => T | Promise<T>): Promise<T> {
    return this.#queue.run(async () => {
      const release = await lockfile.lock(this.dir, {
        lockfilePath: path.join(this.dir, '.lock'),
        realpath: false,
        stale: STALE_MS,
        // Waits up to ~60 s. node-retry lists every retry's delay up front on each lock() call: 10,000
        // retries cost ~1 ms per call (10% of W1-large on File), so fewer and longer ones.
        retries: { retries: 600, minTimeout: 1, maxTimeout: 100, factor: 1.5 },
      });
      try {
        return await fn();
      } finally {
        await release();
      }
    });
  }
}
