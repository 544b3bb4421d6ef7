/** What the coordinator does with a failed attempt (a scatter session's split, a gather task). */
import { BadRecordError, JoinMemoryError, RedisAuthError, RedisOutOfMemoryError, ShuffleError, UnsendableError } from '../../errors.js';
import type { Plan } from '../options.js';
import { asError } from './outcome.js';
import type { WorkerPool } from './pool.js';

/** Whether `err` would come back on every attempt (ENOSPC: a DiskFullError, or fs's own error; Redis at maxmemory, or refusing the credentials). */
export const final = (err: Error) =>
  err instanceof BadRecordError ||
  err instanceof UnsendableError ||
  err instanceof JoinMemoryError ||
  err instanceof RedisOutOfMemoryError ||
  err instanceof RedisAuthError ||
  (err as NodeJS.ErrnoException).code === 'ENOSPC';

/**
 * The error of a failed attempt, to retry; throws instead when the job cannot go on: it was
 * aborted, or no retry can fix the error (a bad record, a full disk, a result that cannot be
 * sent between threads), which aborts the pool.
 */
export function retryable(p: Plan, pool: WorkerPool, e: unknown): Error {
  if (pool.aborted) throw p.signal?.aborted ? p.signal.reason : e;
  const err = asError(e);
  if (final(err)) {
    pool.abort(err);
    throw err;
  }
  return err;
}

/** Ends the job (the pool is aborted): the error names `what`, each attempt and its cause. */
export function giveUp(pool: WorkerPool, what: string, causes: Error[]): never {
  const fatal = gaveUp(what, causes);
  pool.abort(fatal);
  throw fatal;
}

/** The error of work given up on: it names `what`, each attempt and its cause. */
export function gaveUp(what: string, causes: Error[]): ShuffleError {
  const n = causes.length;
  const list = causes.map((c, i) => `attempt ${i + 1}: ${c.message}`).join('; ');
  return new ShuffleError(`${what} failed after ${n} attempt${n > 1 ? 's' : ''} (${list})`, { cause: new AggregateError(causes, list) });
}

/** Runs `attempt(n)` for n = 1, 2, … until it succeeds or `p.retries` retries are used (see above). */
export async function withRetries<R>(
  p: Plan,
  pool: WorkerPool,
  what: string,
  stats: { retried: number },
  attempt: (n: number) => Promise<R>,
): Promise<R> {
  const causes: Error[] = [];
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (e) {
      causes.push(retryable(p, pool, e));
      if (n > p.retries) giveUp(pool, what, causes);
      stats.retried++;
    }
  }
}
