/**
 * What a distributed job's coordinator does about work lost on the way: a split whose blocks were
 * found missing or corrupt is withdrawn (its generation moved on, so a late commit of the old one
 * is refused) and scattered again, up to `retries + 1` times; a task whose BullMQ job ended or
 * vanished (a failover) without an outcome is enqueued again. Runs in the calling thread.
 */
import { BlockLostError } from '../../errors.js';
import { describeSplit } from '../input/splits.js';
import { deleteBlocks } from './blocks.js';
import type { Block } from './messages.js';
import { WITHDRAW } from './scripts.js';
import type { RunState, SplitRun, Tracked } from './tracked.js';

/** Withdraws the commits of `splits` (their blocks were lost: `why`) and scatters them again. */
export async function rerun(state: RunState, splits: Iterable<number>, why: string): Promise<void> {
  for (const index of splits) {
    const s = state.splits.get(index)!;
    const old = s.commit;
    if (!old) continue; // withdrawn already, for another task
    if (++s.lost > state.plan.retries + 1)
      throw new BlockLostError(
        `${describeSplit(s.spec)}: its output was lost in Redis ${s.lost} times (${why}); the job stops rather than return a wrong result`,
      );
    state.commit(s, undefined);
    await withdraw(state, s, s.gen + 1, old.blocks);
    s.attempt = 1;
    s.causes = [];
    await state.enqueueSplit(s);
  }
}

/** Moves split `s` to generation `gen` (its commit, if any, removed) and deletes `blocks`. */
export async function withdraw(state: RunState, s: SplitRun, gen: number, blocks: Block[]): Promise<void> {
  const keys = state.claim.keys;
  await state.link.call('withdraw', (c) => c.eval(WITHDRAW, 2, keys.commits, keys.gens, String(s.spec.index), String(gen)));
  s.gen = gen;
  await deleteBlocks(state.link, blocks).catch(() => undefined);
}

/** Tasks whose BullMQ job ended (or vanished) twice in a row without an outcome seen: enqueued again. */
export async function reconcile(state: RunState): Promise<void> {
  const items: [Tracked, () => Promise<void>][] = [];
  for (const s of state.splits.values()) if (!s.commit && s.queued) items.push([s, () => state.enqueueSplit(s)]);
  for (const t of state.tasks.values()) if (!t.done && t.queued) items.push([t, () => state.enqueueTask(t)]);
  const states = await Promise.all(items.map(([item]) => state.link.call('check tasks', () => state.queue.getJobState(item.queued!))));
  for (const [i, job] of states.entries()) {
    const [item, again] = items[i]!;
    if (job !== 'completed' && job !== 'failed' && job !== 'unknown') continue;
    if (++item.ended < 2) continue;
    item.runs++;
    await again();
  }
}
