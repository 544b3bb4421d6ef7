/**
 * A `partd worker` process's tasks (its main thread; the work itself runs on its Piscina pool,
 * the same worker code as a local job's): a split scattered by one scatter session whose
 * commits become blocks in Redis, then committed in one script; a gather task's partitions read
 * back from their blocks, checked, reduced, and the result recorded. A task never throws: what
 * fails is reported as an event for the coordinator, which decides on retries.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import v8 from 'node:v8';
import { MessageChannel } from 'node:worker_threads';
import type { SplitPart } from '../runtime/commits.js';
import { asError, errorData } from '../runtime/outcome.js';
import type { WorkerPool } from '../runtime/pool.js';
import type { Assignment, GatherTask, ScatterResult, ScatterTask, SessionMessage } from '../protocol.js';
import type { SplitSpec } from '../input/splits.js';
import { deleteBlocks, readBlocks, writeBlocks } from './blocks.js';
import { JobKeys, taskField } from './keys.js';
import type { Link } from './link.js';
import type { Block, ClusterEvent, Commit, GatherJob, Gathered, ScatterJob } from './messages.js';
import { COMMIT, GATHERED, REPORT } from './scripts.js';

/** This process, as events name it. */
export const WORKER_ID = `${os.hostname()} pid ${process.pid}`;

/** What the tasks of one worker process share. */
export interface TaskContext {
  link: Link;
  pool: () => WorkerPool;
}

const token = () => randomBytes(9).toString('base64url');

/** Reports an event to the job's coordinator, while its job lasts. */
async function report(ctx: TaskContext, keys: JobKeys, event: ClusterEvent): Promise<void> {
  await ctx.link.call('report', (c) => c.eval(REPORT, 2, keys.job, keys.events, JSON.stringify(event)));
}

/** True while the job's record exists (a task of an ended or lost job does nothing). */
const live = (ctx: TaskContext, keys: JobKeys) => ctx.link.call('read job', (c) => c.exists(keys.job)).then((n) => n === 1);

/** Scatters one split (see the module comment). */
export async function scatterTask(ctx: TaskContext, job: ScatterJob): Promise<void> {
  const keys = new JobKeys(job.job);
  const index = job.split.index;
  const mine = token();
  const blocks: Block[] = [];
  try {
    if (!(await live(ctx, keys))) return;
    const committed = await ctx.link.call('read commit', (c) => c.hget(keys.commits, String(index)));
    if (committed !== null && (JSON.parse(committed) as Commit).gen === job.gen) return; // another attempt won already
    const split = await withRecords(ctx, keys, job.split);
    if (!split) return; // the job ended meanwhile
    const parts = await runSession(ctx, job, split, mine, blocks);
    const commit: Commit = {
      token: mine,
      gen: job.gen,
      attempt: job.attempt,
      records: parts.reduce((n, p) => n + p.marker.records, 0),
      bad: parts.reduce((n, p) => n + p.marker.bad, 0),
      bytes: blocks.reduce((n, b) => n + b[2], 0),
      blocks,
    };
    const outcome = await ctx.link.call('commit', (c) =>
      c.eval(COMMIT, 3, keys.job, keys.commits, keys.gens, String(index), String(job.gen), JSON.stringify(commit), mine),
    );
    if (outcome !== 'won') await deleteBlocks(ctx.link, blocks);
  } catch (e) {
    // this attempt's blocks first: under maxmemory, Redis refuses the report until they are gone
    await deleteBlocks(ctx.link, blocks).catch(() => undefined);
    const error = errorData(asError(e));
    await report(ctx, keys, {
      type: 'failed',
      kind: 'scatter',
      run: job.run,
      id: index,
      attempt: job.attempt,
      error,
      worker: WORKER_ID,
    }).catch(() => undefined);
  }
}

/** A records split with its records, which the coordinator put in Redis; undefined once they are gone. */
async function withRecords(ctx: TaskContext, keys: JobKeys, split: SplitSpec): Promise<SplitSpec | undefined> {
  if (split.kind !== 'records') return split;
  const bytes = await ctx.link.call('read records', (c) => c.getBuffer(keys.records(split.index)));
  if (bytes === null) return undefined;
  const { records, unsendable } = v8.deserialize(bytes) as { records: unknown[]; unsendable?: [number, string][] };
  return { ...split, records, ...(unsendable && { unsendable }) };
}

/** Runs one scatter session over `split` on the pool, its commits written as blocks as they come; returns its parts. */
async function runSession(ctx: TaskContext, job: ScatterJob, split: SplitSpec, mine: string, blocks: Block[]): Promise<SplitPart[]> {
  const keys = new JobKeys(job.job);
  const ttl = job.ttl;
  const { port1, port2 } = new MessageChannel();
  const assignment: Assignment = { split, lease: mine, attempt: job.attempt, from: 0, part: 0, commit: true };
  const parts: SplitPart[] = [];
  const writes: Promise<void>[] = [];
  let given = false;
  let received = 0;
  let wake: (() => void) | undefined;
  port1.on('message', (m: SessionMessage) => {
    if (m.type === 'next') {
      port1.postMessage(given ? null : assignment);
      given = true;
      return;
    }
    const first = blocks.length;
    blocks.push(...m.entries.map((): Block => [0, '', 0, 0])); // places held in commit order
    const write = writeBlocks(ctx.link, keys, split.index, mine, first, m.entries, ttl).then(
      (b) => void blocks.splice(first, b.length, ...b),
    );
    write.catch(() => undefined); // awaited once the session ends: not an unhandled rejection meanwhile
    writes.push(write);
    parts.push(...m.parts);
    received++;
    wake?.();
  });
  try {
    const task: ScatterTask = { ...job.task, port: port2 };
    const result = await ctx.pool().run<ScatterResult>('scatter', task, { transferList: [port2] });
    // commits come on the port, the result on Piscina's: it may arrive first
    while (received < result.commits) await new Promise<void>((r) => (wake = r));
  } finally {
    port1.close();
    await Promise.allSettled(writes);
  }
  await Promise.all(writes); // the first failed write, if any
  return parts;
}

/** Gathers a task's partitions (see the module comment). */
export async function gatherTask(ctx: TaskContext, job: GatherJob): Promise<void> {
  const keys = new JobKeys(job.job);
  const field = taskField(job.run, job.phase, job.task);
  const mine = token();
  try {
    if (!(await live(ctx, keys))) return;
    if ((await ctx.link.call('read result', (c) => c.hexists(keys.gathered, field))) === 1) return;
    const chunks: Uint8Array[][] = [];
    for (const [i, blocks] of job.blocks.entries()) {
      const read = await readBlocks(ctx.link, blocks);
      if ('lost' in read) {
        const splits = [...new Set(read.lost.map((b) => job.splits[i]![b]!))];
        const event: ClusterEvent = {
          type: 'lost',
          run: job.run,
          phase: job.phase,
          id: job.task,
          attempt: job.attempt,
          splits,
          worker: WORKER_ID,
          why: read.why,
        };
        return await report(ctx, keys, event);
      }
      chunks.push(read.chunks);
    }
    const task: GatherTask = { store: '', partitions: job.partitions, reduce: job.reduce, attempt: job.attempt, chunks };
    const results = await ctx.pool().run<[number, unknown][]>('gather', task);
    const key = keys.result(job.phase, job.task, mine);
    const ttl = job.ttl;
    const bytes = v8.serialize(results);
    await ctx.link.call('write result', (c) => (ttl > 0 ? c.set(key, bytes, 'PX', ttl) : c.set(key, bytes)));
    const gathered: Gathered = { token: mine, key };
    const outcome = await ctx.link.call('record result', (c) =>
      c.eval(GATHERED, 2, keys.job, keys.gathered, field, JSON.stringify(gathered), mine),
    );
    if (outcome !== 'won') await ctx.link.call('delete result', (c) => c.unlink(key));
  } catch (e) {
    const error = errorData(asError(e));
    const event: ClusterEvent = {
      type: 'failed',
      kind: 'gather',
      run: job.run,
      id: job.task,
      phase: job.phase,
      attempt: job.attempt,
      error,
      worker: WORKER_ID,
    };
    await report(ctx, keys, event).catch(() => undefined);
  }
}
