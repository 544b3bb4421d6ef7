/**
 * A job's claim on its store: one job runs on a store at a time. The job record (runtime/commits.ts
 * `jobKey`) says what the job is, so a re-run of the same job resumes it; the owner record
 * (`ownerKey`) says which process runs it now.
 *
 * Claiming is ONE write transaction (`Lmdb.appendEntriesIf`, atomic across threads and
 * processes): it checks the owner and job records and writes the claim (and, on a new store,
 * the job record) together. So of two jobs started at once exactly one runs; the other fails
 * at once with a `StoreBusyError` naming the owner — the same job too, which would otherwise
 * "resume" alongside it. The job's end deletes the claim (`release`).
 *
 * A claim is stale, and taken over at once, when its process is gone: same host and pid
 * namespace, and that pid does not run, is a zombie, or started at another time (a reused
 * pid; Linux: field 22 of /proc/PID/stat), or the machine rebooted since. In this process, a
 * claim of this thread whose session is over is stale too (a release that could not write).
 * A claim from another host (or pid namespace) cannot be checked: it is reported busy, and
 * if its process is gone it is cleared by deleting the owner key:
 * `await new Lmdb(dir).delete(tuple('owner'))`.
 *
 * The claim is noted in a file beside the database too (NOTE), read before the store is
 * opened: a job started while another one runs is refused without opening the store at all.
 * The note is only a shortcut: a stale or missing one leaves it to the transaction.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { threadId } from 'node:worker_threads';
import { StoreBusyError, StoreKindError } from '../../errors.js';
import { keyId } from '../../keys.js';
import type { Entry } from '../../partd.js';
import { appendEntriesIf, Lmdb } from '../../stores/lmdb/lmdb.js';
import { jobKey, ownerKey, utf8 } from './commits.js';
import type { SplitSpec } from '../input/splits.js';

/** A claimed job: its store, its splits (planned now, or by the run that is resumed) and how to end the claim. */
export interface Claim {
  store: Lmdb;
  /** The store was opened here (from a path, or temporary), so the job closes it. */
  ownsStore: boolean;
  splits: SplitSpec[];
  /** Deletes the claim (call it before the store is closed); again, or on a closed or dropped store, it does nothing. */
  release(): Promise<void>;
}

type Job = { splits: SplitSpec[] } & Record<string, unknown>;

/** A claim as the owner key holds it: one JSON line per claim, the last one counts. */
interface Owner {
  pid: number;
  host: string;
  /** The process's start time (clock ticks after boot), when the system tells it. */
  start?: number;
  boot?: string;
  /** The pid namespace: pids of another one (a container) cannot be checked from here. */
  ns?: string;
  thread: number;
  session: string;
  since: string;
}

/** Best-effort reads of what /proc tells (Linux), undefined elsewhere. */
const readOr = <T>(read: () => T): T | undefined => {
  try {
    return read();
  } catch {
    return undefined;
  }
};
const HOST = os.hostname();
const BOOT = readOr(() => fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
const NS = readOr(() => fs.readlinkSync('/proc/self/ns/pid'));

/** State (field 3) and start time (field 22) of process `pid`; null when it does not exist, undefined when it cannot be read. */
function procStat(pid: number | 'self'): { state: string; start: number } | null | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' && fs.existsSync('/proc/self/stat') ? null : undefined;
  }
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' '); // the name (field 2) may hold spaces and ')'
  return { state: fields[0]!, start: Number(fields[19]) };
}
const START = procStat('self')?.start;

/**
 * The claims this thread holds, by store path — shared by every copy of this module in the
 * thread. A second job of this thread on a claimed store is refused here, before it opens it.
 */
const held: Map<string, Owner> = ((globalThis as Record<symbol, unknown>)[Symbol.for('partd.jobClaims')] ??= new Map()) as Map<
  string,
  Owner
>;

/** Whether the process of a claim still runs: 'unknown' when it runs elsewhere. */
function liveness(o: Owner): 'live' | 'gone' | 'unknown' {
  if (o.host !== HOST || (o.ns !== undefined && NS !== undefined && o.ns !== NS)) return 'unknown';
  if (o.boot !== undefined && BOOT !== undefined && o.boot !== BOOT) return 'gone';
  if (o.pid === process.pid && (o.start === undefined || o.start === START)) {
    if (o.thread !== threadId) return 'live'; // another thread of this process
    return [...held.values()].some((h) => h.session === o.session) ? 'live' : 'gone';
  }
  try {
    process.kill(o.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return 'gone'; // EPERM: it runs, as another user
  }
  const stat = procStat(o.pid);
  if (stat === null) return 'gone';
  if (stat === undefined) return 'live';
  return stat.state === 'Z' || stat.state === 'X' || (o.start !== undefined && stat.start !== o.start) ? 'gone' : 'live';
}

/** The file beside the database that notes the store's current claim. */
const NOTE = '.partd-job-owner';

function readNote(dir: string): Owner | undefined {
  const o = readOr(() => JSON.parse(fs.readFileSync(path.join(dir, NOTE), 'utf8')) as Owner);
  return o && typeof o === 'object' && typeof o.pid === 'number' && typeof o.host === 'string' && typeof o.session === 'string'
    ? o
    : undefined;
}

/**
 * Notes `owner`'s claim, or (undefined) none; written whole (a temporary file renamed). Best
 * effort, as the note is only a shortcut. An ended claim leaves the file empty, so a kept
 * store's directory holds the same files before and after a job.
 */
function writeNote(dir: string, owner: Owner, text = JSON.stringify(owner)): void {
  const tmp = path.join(dir, `${NOTE}.${owner.session}`);
  readOr(() => (fs.writeFileSync(tmp, text), fs.renameSync(tmp, path.join(dir, NOTE))));
}

function clearNote(dir: string, owner: Owner): void {
  if (readNote(dir)?.session === owner.session) writeNote(dir, owner, '');
}

/** Refuses a claim at once when the note names a job that runs on this host; else the transaction decides. */
function checkNote(dir: string): void {
  const noted = path.isAbsolute(dir) ? readNote(dir) : undefined; // else not a path: Lmdb says so
  if (noted && liveness(noted) === 'live') throw busy(dir, noted);
}

const clearHint = (dir: string) => `await new Lmdb(${JSON.stringify(dir)}).delete(tuple('owner'))`;

function busy(dir: string, o: Owner): StoreBusyError {
  const elsewhere = o.host !== HOST ? `another host (this is ${HOST})` : 'another pid namespace (a container, say)';
  const hint =
    liveness(o) === 'unknown'
      ? `it runs on ${elsewhere}, so partd cannot tell whether it still runs: if it is gone, clear its claim: ${clearHint(dir)}`
      : 'wait for it to end, or use another directory';
  return new StoreBusyError(`store: ${dir} is in use by another shuffle job: pid ${o.pid} on ${o.host}, since ${o.since}; ${hint}`, {
    pid: o.pid,
    host: o.host,
    since: o.since,
  });
}

/** The claim the owner key holds (its last line), if any. */
function currentOwner(dir: string, bytes: Uint8Array): Owner | undefined {
  if (bytes.length === 0) return undefined;
  const last = utf8(bytes).trimEnd().split('\n').at(-1)!;
  const o = readOr(() => JSON.parse(last) as Owner);
  if (
    !o ||
    typeof o !== 'object' ||
    typeof o.pid !== 'number' ||
    typeof o.host !== 'string' ||
    typeof o.session !== 'string' ||
    typeof o.since !== 'string'
  ) {
    throw new StoreKindError('shuffle', dir, `its owner record is not one partd wrote; if no job runs on it, clear it: ${clearHint(dir)}`);
  }
  return o;
}

/** The job record: the job this store holds. */
function readJob(dir: string, bytes: Uint8Array): Job {
  let job: Job;
  try {
    job = JSON.parse(utf8(bytes)) as Job;
  } catch (e) {
    throw new StoreKindError('shuffle', dir, `its job record is not JSON: ${(e as Error).message}`);
  }
  if (!job || typeof job !== 'object' || Array.isArray(job) || typeof job.version !== 'number' || !Array.isArray(job.splits)) {
    throw new StoreKindError('shuffle', dir, 'its job record is not a shuffle job');
  }
  return job;
}

/** Opens the job's store (`store`: an Lmdb, a directory, or undefined for a temporary one) and claims it for `job`. */
export async function openJob(store: string | Lmdb | undefined, job: Job): Promise<Claim> {
  const owner: Owner = {
    pid: process.pid,
    host: HOST,
    ...(START !== undefined && { start: START }),
    ...(BOOT !== undefined && { boot: BOOT }),
    ...(NS !== undefined && { ns: NS }),
    thread: threadId,
    session: randomUUID(),
    since: new Date().toISOString(),
  };
  if (store instanceof Lmdb) {
    const splits = await within(store.path, owner, () => (checkNote(store.path), claimJob(store, job, owner)));
    writeNote(store.path, owner);
    return claimed(store, false, splits, owner);
  }
  if (store === undefined) {
    // noSync: only the coordinating thread writes a shuffle's store (see LmdbOptions.noSync).
    const temporary = new Lmdb(undefined, { noSync: true });
    try {
      return claimed(temporary, true, await within(temporary.path, owner, () => claimJob(temporary, job, owner)), owner);
    } catch (e) {
      await temporary.close();
      throw e;
    }
  }
  const dir = typeof store === 'string' && store !== '' ? path.resolve(store) : store;
  return within(dir, owner, async () => {
    checkNote(dir);
    // Synced, the default at a path: lmdb-js 3.5 was measured to lose noSync commits while other
    // processes open the store, as a job that tries to claim it (or any reader) does.
    const kept = new Lmdb(dir);
    try {
      const splits = await claimJob(kept, job, owner);
      writeNote(dir, owner);
      return claimed(kept, true, splits, owner);
    } catch (e) {
      await kept.close();
      throw e;
    }
  });
}

/** Runs a claim of `dir` as this thread's: refused at once while this thread has a job there, and forgotten if it fails. */
async function within<T>(dir: string, owner: Owner, claim: () => Promise<T>): Promise<T> {
  const mine = held.get(dir);
  if (mine) throw busy(dir, mine);
  held.set(dir, owner);
  try {
    return await claim();
  } catch (e) {
    if (held.get(dir) === owner) held.delete(dir);
    throw e;
  }
}

function claimed(store: Lmdb, ownsStore: boolean, splits: SplitSpec[], owner: Owner): Claim {
  let released: Promise<void> | undefined;
  const release = () => (released ??= releaseAt(store, owner, false));
  return { store, ownsStore, splits, release };
}

/**
 * Deletes `owner`'s claim from `store` if it still holds it (not after a drop, or a
 * takeover), clears its note, and forgets it in this thread. Best effort: a claim it cannot
 * delete (a closed store, a full disk) is stale once this thread no longer holds it.
 */
async function releaseAt(store: Lmdb, owner: Owner, close: boolean): Promise<void> {
  try {
    if (!store.closed && currentOwner(store.path, await store.get(ownerKey()))?.session === owner.session) await store.delete(ownerKey());
  } catch {
    // stale from here on: see above
  } finally {
    clearNote(store.path, owner);
    if (held.get(store.path) === owner) held.delete(store.path);
    if (close) await store.close();
  }
}

/** True when the store holds no key but the owner record. */
async function holdsOnlyClaims(store: Lmdb): Promise<boolean> {
  for await (const key of store.keys()) if (keyId(key) !== keyId(ownerKey())) return false;
  return true;
}

/** The job record moved between reading it and the claim's transaction: read again. */
class Moved extends Error {}

/**
 * Claims `store` for `job` in one transaction, and returns the job's splits: the same job
 * keeps the splits it planned; another job is refused (a store never mixes two shuffles).
 */
async function claimJob(store: Lmdb, job: Job, owner: Owner): Promise<SplitSpec[]> {
  const identity = (j: Record<string, unknown>) => JSON.stringify({ ...j, splits: undefined });
  for (let attempt = 0; ; attempt++) {
    const seen = await store.get(jobKey()); // decides what the transaction writes; it checks it is still so
    if (seen.length === 0 && !(await holdsOnlyClaims(store))) {
      if ((await store.get(jobKey())).length > 0) continue; // another job was recorded meanwhile: read it
      throw new Error(`store: ${store.path} is not empty and holds no shuffle job; give an empty or new directory`);
    }
    const entries: Entry<Uint8Array>[] = [[keyId(ownerKey()), Buffer.from(JSON.stringify(owner) + '\n')]];
    if (seen.length === 0) entries.push([keyId(jobKey()), Buffer.from(JSON.stringify(job))]);
    let splits = job.splits;
    let refused: unknown; // thrown as is (the store may wrap what a transaction throws)
    try {
      appendEntriesIf(store, entries, (get) => {
        try {
          const holder = currentOwner(store.path, get(ownerKey()));
          if (holder && liveness(holder) !== 'gone') throw busy(store.path, holder);
          const now = get(jobKey());
          if (Buffer.compare(now, seen) !== 0) throw new Moved(`store: ${store.path}: its job record changed while it was being claimed`);
          if (now.length === 0) return;
          const previous = readJob(store.path, now);
          if (identity(previous) !== identity(job)) {
            throw new Error(
              `store: ${store.path} holds another shuffle job (input, key, partitions or aggregations differ); use another directory, or drop that store`,
            );
          }
          splits = previous.splits;
        } catch (e) {
          throw (refused = e);
        }
      });
      return splits;
    } catch (e) {
      if (refused === undefined) throw e;
      if (!(refused instanceof Moved) || attempt >= 3) throw refused;
    }
  }
}
