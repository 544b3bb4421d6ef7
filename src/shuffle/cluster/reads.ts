/**
 * What the workers of a distributed job record in Redis, read by its coordinator at each poll:
 * splits' commits, gather tasks' results, and events (a failed attempt, retried up to `retries`;
 * lost blocks, whose splits are re-run). Runs in the calling thread.
 */
import v8 from 'node:v8';
import { BadRecordError, errorFromData } from '../../errors.js';
import { describeSplit } from '../input/splits.js';
import { final, gaveUp } from '../runtime/retries.js';
import { taskField } from './keys.js';
import type { ClusterEvent, Commit, Gathered } from './messages.js';
import { rerun, withdraw } from './recover.js';
import type { RunState, SplitRun, TaskRun } from './tracked.js';

/** The new commits of pending splits; a gather task that waited for them is enqueued. */
export async function readCommits(state: RunState): Promise<void> {
  const pending = [...state.splits.values()].filter((s) => !s.commit && s.queued);
  if (pending.length === 0) return;
  const keys = state.claim.keys;
  const found = await state.link.call('read commits', (c) => c.hmget(keys.commits, ...pending.map((s) => String(s.spec.index))));
  for (const [i, text] of found.entries()) {
    if (text === null) continue;
    const s = pending[i]!;
    const commit = JSON.parse(text) as Commit;
    if (commit.gen !== s.gen) {
      // an attempt of a withdrawn generation (Redis lost the generation's change): withdrawn again
      await withdraw(state, s, s.gen, commit.blocks);
      continue;
    }
    state.commit(s, commit);
    s.queued = undefined;
    state.committed(s);
    for (const t of state.tasks.values()) {
      if (t.waiting?.delete(s.spec.index) && t.waiting.size === 0) await state.enqueueTask(t); // waits again if another split is re-run
    }
  }
}

/** The results of pending gather tasks, queued for the phase loop; a result recorded, then lost, is gathered again. */
export async function readResults(state: RunState): Promise<void> {
  const pending = [...state.tasks.values()].filter((t) => !t.done && t.queued);
  if (pending.length === 0) return;
  const keys = state.claim.keys;
  const found = await state.link.call('read results', (c) => c.hmget(keys.gathered, ...pending.map((t) => state.field(t))));
  for (const [i, text] of found.entries()) {
    if (text === null) continue;
    const t = pending[i]!;
    const { key } = JSON.parse(text) as Gathered;
    const bytes = await state.link.call('read result', (c) => c.getBuffer(key));
    if (bytes === null) {
      // recorded, then lost (a failover): gathered again
      await state.link.call('read result', (c) => c.hdel(keys.gathered, state.field(t)));
      t.runs++;
      await state.enqueueTask(t);
      continue;
    }
    t.done = true;
    t.queued = undefined;
    state.results.push([t, v8.deserialize(bytes) as [number, unknown][]]);
    state.plan.progress({
      phase: 'gather',
      partitionsDone: (state.partitionsDone += t.partitions.length),
      partitions: state.plan.partitions,
    });
    await state.link.call('delete result', (c) => c.unlink(key));
  }
}

/** The events not read yet. Throws a final error, or one retried past `retries`. */
export async function readEvents(state: RunState): Promise<void> {
  const keys = state.claim.keys;
  const texts = await state.link.call('read events', (c) => c.lrange(keys.events, state.events, -1));
  state.events += texts.length;
  for (const text of texts) {
    const e = JSON.parse(text) as ClusterEvent;
    if (e.run !== state.claim.run) continue; // a task of an earlier run of the job
    if (e.type === 'lost') {
      const t = state.tasks.get(taskField(e.run, e.phase, e.id));
      if (!t || t.done || t.attempt !== e.attempt || t.waiting) continue;
      t.attempt++; // enqueued once the splits commit again (readCommits)
      state.gatherRetried++;
      t.queued = undefined;
      t.waiting = new Set(e.splits);
      await rerun(state, e.splits, e.why);
      continue;
    }
    const item = e.kind === 'scatter' ? state.splits.get(e.id) : state.tasks.get(taskField(e.run, e.phase!, e.id));
    if (!item || item.attempt !== e.attempt || ('commit' in item && item.commit) || ('done' in item && item.done)) continue;
    const error = errorFromData(e.error);
    if (!(error instanceof BadRecordError)) error.message += ` (on worker ${e.worker})`;
    if (final(error)) throw error;
    item.causes.push(error);
    const what =
      'spec' in item ? describeSplit((item as SplitRun).spec) : `gather task of partitions ${(item as TaskRun).partitions.join(', ')}`;
    if (item.causes.length > state.plan.retries) throw gaveUp(what, item.causes);
    item.attempt++;
    if ('spec' in item) {
      state.scatterRetried++;
      await state.enqueueSplit(item as SplitRun);
    } else {
      state.gatherRetried++;
      await state.enqueueTask(item as TaskRun);
    }
  }
}
