/**
 * Mutual exclusion on a store directory: an in-process queue (cheap, and it keeps calls of
 * one instance in order) around a lock file that other threads and processes respect
 * (proper-lockfile: an atomic `mkdir`, refreshed while held, taken over once stale after a
 * holder was killed).
 */
import lockfile from 'proper-lockfile';
import path from 'node:path';
import { Mutex } from '../../mutex.js';

const STALE_MS = 5000; // proper-lockfile's minimum: a killed holder delays others this long at most.
/**
 * A call that follows at once (a loop of awaited appends) keeps the lock for at most this long:
 * taking it costs a `mkdir` and a `rmdir`, about a millisecond a call on ext4.
 */
const HOLD_MS = 50;

/** A lock over one directory. */
export class DirLock {
  readonly #queue = new Mutex();
  #release: (() => Promise<void>) | undefined;
  #since = 0;
  #calls = 0; // calls of `run` not finished yet, queued ones included

  /** @param onRelease runs just before the lock is let go (state valid only under it ends there) */
  constructor(
    readonly dir: string,
    readonly onRelease: () => void = () => undefined,
  ) {}

  /** Runs `fn` while holding the lock. */
  run<T>(fn: () => T | Promise<T>): Promise<T> {
    this.#calls++;
    return this.#queue.run(async () => {
      try {
        if (!this.#release) {
          this.#release = await lockfile.lock(this.dir, {
            lockfilePath: path.join(this.dir, '.lock'),
            realpath: false,
            stale: STALE_MS,
            // Waits up to ~60 s. node-retry lists every retry's delay up front on each lock() call: 10,000
            // retries cost ~1 ms per call (10% of W1-large on File), so fewer and longer ones.
            retries: { retries: 600, minTimeout: 1, maxTimeout: 100, factor: 1.5 },
          });
          this.#since = performance.now();
        }
        return await fn();
      } finally {
        this.#calls--;
        await this.#afterCall();
      }
    });
  }

  /** Releases the lock (when held). */
  async close(): Promise<void> {
    await this.#queue.run(() => this.#releaseNow());
  }

  /** Keeps the lock for a call already queued or made before the event loop turns, within HOLD_MS. */
  async #afterCall(): Promise<void> {
    if (performance.now() - this.#since >= HOLD_MS) return this.#releaseNow();
    if (this.#calls > 0) return;
    setImmediate(() => {
      if (this.#calls === 0) void this.#queue.run(() => (this.#calls === 0 ? this.#releaseNow() : undefined));
    });
  }

  async #releaseNow(): Promise<void> {
    const release = this.#release;
    if (!release) return;
    this.#release = undefined;
    try {
      this.onRelease();
    } finally {
      await release();
    }
  }
}
