/** The end of a job, in the coordinating thread: what `groupBy`, `sort` and `join` do last, whatever their outcome. */
import type { Plan } from '../options.js';
import type { WorkerPool } from './pool.js';

/**
 * Closes the job's pool (if it has one open), releases its claim, and closes a store the job
 * opened: dropped when `temporary` (no `store` option); a store the caller named stays, to
 * inspect or to resume.
 */
export async function endJob(
  p: Pick<Plan, 'store' | 'ownsStore' | 'release'>,
  pool: WorkerPool | undefined,
  temporary: boolean,
): Promise<void> {
  await pool?.close();
  await p.release();
  if (p.ownsStore && !p.store.closed) {
    if (temporary) await p.store.drop();
    await p.store.close();
  }
}
