/**
 * A distributed job's claim in Redis, by its coordinator: the job record (what tells a re-run of
 * the same job from another, and the splits it planned) and the owner key (which coordinator
 * runs it; it expires unless refreshed, so a coordinator that was killed frees the job within
 * OWNER_TTL_MS). A re-run of the same job finds its commits and resumes; another job under the
 * same name is refused. The job's end removes every key of it.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { JobLostError, RedisOutOfMemoryError, StoreBusyError } from '../../errors.js';
import { removeAtExit } from '../../stores/redis/exit-cleanup.js';
import type { SplitSpec } from '../input/splits.js';
import { JobKeys } from './keys.js';
import type { Link } from './link.js';
import type { Commit } from './messages.js';

/** How long a coordinator's claim outlives its last refresh. */
export const OWNER_TTL_MS = 5000;
/** A temporary job's keys expire this long after its coordinator last refreshed them (the backstop for a coordinator that died). */
export const TEMPORARY_TTL_MS = 3_600_000;

type JobRecord = { splits: SplitSpec[] } & Record<string, unknown>;

/** A claimed job. */
export interface ClusterClaim {
  keys: JobKeys;
  /** This coordinator's run: task ids and result fields carry it. */
  run: string;
  temporary: boolean;
  /** TTL of the job's keys in ms (0: a named job's keys never expire). */
  ttl: number;
  splits: SplitSpec[];
  /** Commits an earlier run made (a resumed job), by split, with the generations. */
  commits: Map<number, Commit>;
  gens: Map<number, number>;
  /** Where this run's events start in the events list. */
  events: number;
  /** Refreshes the claim; throws JobLostError when Redis no longer holds the job, RedisOutOfMemoryError at maxmemory. */
  check(): Promise<void>;
  /** Removes every key of the job and ends the claim. */
  end(): Promise<void>;
}

const identity = (j: Record<string, unknown>) => JSON.stringify({ ...j, splits: undefined });

/** Claims the job `name` (a new temporary one without a name) for `job`; resumes it when Redis holds the same job. */
export async function claimJob(link: Link, name: string | undefined, job: JobRecord): Promise<ClusterClaim> {
  const temporary = name === undefined;
  const keys = new JobKeys(name ?? `tmp-${process.pid}-${randomBytes(9).toString('base64url')}`);
  const run = randomBytes(6).toString('base64url').replace(/[-_]/g, 'x');
  const owner = JSON.stringify({ host: os.hostname(), pid: process.pid, run, since: new Date().toISOString() });
  const ttl = temporary ? TEMPORARY_TTL_MS : 0;
  for (const deadline = Date.now() + OWNER_TTL_MS + 1000; ;) {
    const set = await link.call('claim', (c) => c.set(keys.owner, owner, 'PX', OWNER_TTL_MS, 'NX'));
    if (set === 'OK') break;
    if (Date.now() > deadline) {
      const holder = await link.call('claim', (c) => c.get(keys.owner));
      throw new StoreBusyError(
        `store: job ${keys.name} in Redis at ${link.server} is run by another coordinator (${holder ?? 'gone now'}); wait for it to end, or use another name`,
      );
    }
    await sleep(250); // a coordinator killed leaves its claim until it expires
  }
  const cancelExit = temporary ? keys.patterns.map((pattern) => removeAtExit({ server: link.settings.server, pattern })) : [];
  const record = JSON.stringify(job);
  const fresh = await link.call('claim', (c) => (ttl > 0 ? c.set(keys.job, record, 'PX', ttl, 'NX') : c.set(keys.job, record, 'NX')));
  let splits = job.splits;
  const commits = new Map<number, Commit>();
  const gens = new Map<number, number>();
  if (fresh !== 'OK') {
    const held = JSON.parse((await link.call('claim', (c) => c.get(keys.job))) ?? 'null') as JobRecord | null;
    if (!held || identity(held) !== identity(job)) {
      await link.call('claim', (c) => c.del(keys.owner));
      throw new Error(
        `store: job ${keys.name} in Redis at ${link.server} is another job (input, key, partitions or aggregations differ); use another name`,
      );
    }
    splits = held.splits;
    const [c, g] = await link.call('resume', (r) => Promise.all([r.hgetall(keys.commits), r.hgetall(keys.gens)]));
    for (const [split, gen] of Object.entries(g)) gens.set(Number(split), Number(gen));
    for (const [split, text] of Object.entries(c)) {
      const commit = JSON.parse(text) as Commit;
      if (commit.gen === (gens.get(Number(split)) ?? 0)) commits.set(Number(split), commit);
    }
  }
  const events = await link.call('claim', (c) => c.llen(keys.events));
  const check = async () => {
    const [held] = await link.call('refresh', (c) =>
      Promise.all([
        c.exists(keys.job),
        c.set(keys.owner, owner, 'PX', OWNER_TTL_MS),
        ...(ttl > 0 ? [keys.job, keys.commits, keys.gens, keys.gathered, keys.events].map((k) => c.pexpire(k, ttl)) : []),
      ]),
    );
    if (held !== 1)
      throw new JobLostError(
        `job ${keys.name}: Redis at ${link.server} no longer holds its records (restarted empty, flushed, or its keys expired); nothing of it was returned`,
      );
    try {
      await link.call('probe', (c) => c.set(`${keys.base}probe`, '1', 'PX', OWNER_TTL_MS)); // a write Redis refuses at maxmemory
    } catch (e) {
      if (e instanceof RedisOutOfMemoryError) throw new RedisOutOfMemoryError(`job ${keys.name}: ${e.message}: the job cannot go on`);
      throw e;
    }
  };
  const end = async () => {
    try {
      await link.call('end', (c) => c.del(keys.job)); // first: workers skip the job's tasks from here on
      for (const pattern of keys.patterns) await link.removeMatching(pattern);
    } finally {
      for (const cancel of cancelExit) cancel();
    }
  };
  return { keys, run, temporary, ttl, splits, commits, gens, events, check, end };
}
