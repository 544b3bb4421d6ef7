/**
 * The scatter worker: a *session* reads split after split, as the coordinator hands them out
 * (so a thread that runs slower simply reads fewer: the threads end together), partitions
 * their records by key, and appends them to the store in large MessagePack chunks (LMDB pays
 * per entry, not per byte). A groupBy's per-key states carry across the session's splits, so
 * its key count costs once per session, not once per split.
 *
 * Each *commit* — when the memory budget fills, when the coordinator asks for one after a
 * split, and at the end — hands the coordinator (over a MessagePort; chunk buffers move, not
 * copied) the chunks and one part marker per split read since the last commit, which it
 * writes as ONE guarded transaction (commits.ts). Workers never write: a thread terminated
 * inside a write transaction would hang the process, and workers are terminated on timeouts
 * and aborts. A split comes with the position its committed parts reach, and records before
 * it are skipped, so a retry never counts a record twice.
 */
import { BadRecordError, describe } from '../errors.js';
import { fieldReader } from './fields.js';
import { Msgpack } from '../layers/values.js';
import { keyId } from '../keys.js';
import type { MessagePort } from 'node:worker_threads';
import type { SplitPart } from './commits.js';
import { trigger, type Fault } from './faults.js';
import { Dict } from '../stores/dict.js';
import { loadRef, type ResolvedRef } from './modules.js';
import { partitionOf } from './partitioner.js';
import { groupsOf } from './groups.js';
import { aggregator, misfit, ordinal, valueCheck, type PlannedAgg } from './reducers.js';
import { csvLineOf } from './csv.js';
import { lineOf } from './file-bytes.js';
import { describeSplit, originOf, readSplit, type Origin, type SplitSpec } from './splits.js';

/** How a record's key is found: a field name (with its declared type, if any), or a function module. */
export type KeySpec = { field: string; type?: 'string' | 'number' } | ResolvedRef;

/** One scatter session. */
export interface ScatterTask {
  key: KeySpec;
  partitions: number;
  /** Encoded bytes to buffer before committing. */
  budget: number;
  onBadRecord: 'error' | 'skip';
  /** groupBy: aggregate per key before the shuffle (states must be mergeable), or tag records with their ordinal. */
  group?: { plan: PlannedAgg[]; combine: boolean };
  /** The line to the coordinator: `SessionMessage`s out, `Assignment | null` in. */
  port: MessagePort;
  /** Test-only fault injection (faults.ts). */
  faults?: Fault[];
}

/** A split handed to a session (null instead: no more splits). */
export interface Assignment {
  split: SplitSpec;
  /** The session's token; its commits for this split are refused once the lease moves. */
  lease: string;
  /** The split's failures so far plus one (fault injection keys on it). */
  attempt: number;
  /** Position the split's committed parts reach, and the number of the next part. */
  from: number;
  part: number;
  /** Commit right after reading this split (it bounds what a retry redoes). */
  commit: boolean;
}

/** A session's messages to the coordinator. */
export type SessionMessage =
  | { type: 'next'; read?: SplitRead }
  | { type: 'commit'; entries: [string, Uint8Array][]; parts: SplitPart[] };

/** A split read to its end, for progress (not yet committed). */
export interface SplitRead {
  split: number;
  records: number;
  bad: number;
}

/** What a session reports: how many commits it posted (the coordinator awaits them all). */
export interface ScatterResult {
  commits: number;
}

const CHUNK_RECORDS = 4096;
/** Rough heap size of one buffered (not yet encoded) record, to count buffers against the budget. */
const RECORD_BYTES = 128;
/** Rough size of one combined group in memory, to bound the combine map by the budget. */
const GROUP_BYTES = 200;

/**
 * Frames chunks as the `Msgpack` layer stores them; it never appends (the coordinator writes).
 * A session opens no store at all: a worker terminated (on an abort) while lmdb-js was
 * opening one aborted the whole process ("napi_throw" during termination).
 */
const framer = new Msgpack(new Dict());

/** Makes the key function of a spec. */
export async function keyFunction(spec: KeySpec): Promise<(record: unknown) => unknown> {
  return 'field' in spec ? fieldReader(spec.field) : loadRef<(record: unknown) => unknown>(spec);
}

/**
 * Why `key` is not a usable key (docs/types.md), or undefined: a key is a string or a finite
 * number, exact (an integer beyond 2^53 may have been rounded by JSON.parse), of the declared type.
 */
export function keyMisfit(key: unknown, spec: KeySpec): string | undefined {
  const what = 'field' in spec ? `key field ${JSON.stringify(spec.field)}` : 'the key function';
  const type = 'field' in spec ? spec.type : undefined;
  if (typeof key === 'string') return type === 'number' ? `${what}: types declares it a number, got ${describe(key)}` : undefined;
  if (typeof key === 'number' && key - key === 0) {
    if (Math.abs(key) > Number.MAX_SAFE_INTEGER) return `${what}: ${key} is beyond ±(2^53 − 1), where a number may have been rounded (JSON.parse rounds such integers); quote it in the input to read it as a string`;
    return type === 'string' ? `${what}: types declares it a string, got ${describe(key)}` : undefined;
  }
  const got = key === undefined ? 'nothing (the field is missing)' : describe(key);
  return `${'field' in spec ? `record has no usable key: ${what}` : `${what} returned no usable key`}: expected a string or a finite number, got ${got}`;
}

/** Asks the coordinator for the next split (null: none left). */
function assignments(port: MessagePort): (read?: SplitRead) => Promise<Assignment | null> {
  let waiting: ((a: Assignment | null) => void) | undefined;
  port.on('message', (a: Assignment | null) => waiting?.(a));
  return (read) =>
    new Promise((resolve) => {
      waiting = resolve;
      port.postMessage({ type: 'next', read } satisfies SessionMessage);
    });
}

/** Runs one scatter session. */
export async function scatter(task: ScatterTask): Promise<ScatterResult> {
  const next = assignments(task.port);
  try {
    let a = await next(); // first: a failure to load the modules below is then blamed on a split
    if (a === null) return { commits: 0 };
    const keyOf = await keyFunction(task.key);
    const P = task.partitions;
    const agg = task.group ? await aggregator(task.group.plan) : undefined;
    const ordered = task.group?.plan.some((a) => a.op === 'first' || a.op === 'last' || a.op === 'collect') ?? false;
    const check = task.group ? valueCheck(task.group.plan) : undefined;
    const keyTyped = 'field' in task.key && task.key.type !== undefined;
    const faulty = (task.faults ?? []).some((f) => f.at === 'read');

    let finished: SplitPart[] = []; // parts of the splits read to their end since the last commit
    let cur!: Assignment; // the split being read (`reading`); `cur.from`/`cur.part`: its uncommitted part
    let reading = false;
    let position = 0; // of the current split: next position, and counts since its last commit
    let records = 0;
    let badCount = 0;
    let earlier = { records: 0, bad: 0 }; // of the current split, in parts already committed
    let readFault: (position: number) => void = () => undefined;
    let commits = 0;
    let pending: [string, Uint8Array][] = [];
    let pendingBytes = 0;
    let buffered = 0; // records in `buffers`
    const buffers: unknown[][] = Array.from({ length: P }, () => []);
    const groups = agg && task.group!.combine ? groupsOf(task.group!.plan, agg) : undefined; // map-side combine
    const maxGroups = Math.max(1000, Math.floor(task.budget / GROUP_BYTES));

    const emit = (p: number, values: unknown[]) => {
      const chunk = framer.frameOf(values);
      pending.push([keyId(p), chunk]);
      pendingBytes += chunk.length;
    };
    const flushBuffers = () => {
      if (groups) {
        groups.drain(P).forEach((block, p) => block && emit(p, [block]));
      } else {
        buffers.forEach((list, p) => {
          if (list.length) emit(p, list);
          buffers[p] = [];
        });
        buffered = 0;
      }
    };
    const currentPart = (final: boolean): SplitPart => ({
      split: cur.split.index, part: cur.part, lease: cur.lease, marker: { from: cur.from, to: position, records, bad: badCount, bytes: 0, final },
    });
    const commit = (): void => {
      flushBuffers();
      const parts = reading ? [...finished, currentPart(false)] : finished;
      parts[0]!.marker.bytes = pendingBytes; // the commit's chunks serve all its parts: counted once
      task.port.postMessage({ type: 'commit', entries: pending, parts } satisfies SessionMessage, transferable(pending.map(([, bytes]) => bytes)));
      commits++;
      finished = [];
      pending = [];
      pendingBytes = 0;
      if (reading) {
        cur = { ...cur, part: cur.part + 1, from: position };
        earlier = { records: earlier.records + records, bad: earlier.bad + badCount };
        records = badCount = 0;
      }
    };

    const badRecord = (message: string, pos: number, at?: number) => {
      const error = new BadRecordError(message);
      error.origin = originOf(cur.split, pos, at);
      return error;
    };
    let commitDue = false;
    const bad = (error: BadRecordError, pos: number) => {
      position = pos + 1;
      if (task.onBadRecord === 'error') throw error;
      badCount++;
    };
    const sink = {
      record: (record: unknown, pos: number, at?: number) => {
        if (pos < position) return; // committed by an earlier attempt
        if (faulty) readFault(pos);
        position = pos + 1;
        let key: unknown;
        try {
          key = keyOf(record);
        } catch (e) {
          return bad(badRecord(`the key function threw: ${(e as Error)?.message ?? String(e)}`, pos, at), pos);
        }
        if (typeof key !== 'string' || keyTyped) {
          const why = keyMisfit(key, task.key);
          if (why !== undefined) return bad(badRecord(why, pos, at), pos);
        }
        if (check !== undefined) {
          const failed = check(record);
          if (failed >= 0) return bad(badRecord(misfit(task.group!.plan[failed]!, record), pos, at), pos);
        }
        records++;
        if (groups) {
          groups.add(key as string | number, record, ordered ? ordinal(cur.split.index, pos) : 0);
          if (groups.size >= maxGroups) commitDue = true;
        } else {
          const p = partitionOf(key as string | number, P);
          const buf = buffers[p]!;
          buf.push(agg ? [key, ordinal(cur.split.index, pos), record] : record);
          buffered++;
          if (buf.length >= CHUNK_RECORDS) {
            emit(p, buf);
            buffered -= buf.length;
            buffers[p] = [];
          } else if (buffered * RECORD_BYTES >= task.budget / 2) {
            flushBuffers(); // many partitions, each short of a chunk: encode them all (smaller chunks)
          }
          if (pendingBytes + buffered * RECORD_BYTES >= task.budget) commitDue = true;
        }
        if (commitDue) {
          commitDue = false;
          commit();
        }
      },
      bad: (error: BadRecordError, pos: number) => {
        if (pos >= position) bad(error, pos); // else committed by an earlier attempt
      },
    };

    for (; a !== null; a = await next({ split: cur.split.index, records: earlier.records + records, bad: earlier.bad + badCount })) {
      cur = a;
      reading = true;
      position = a.from;
      records = badCount = 0;
      earlier = { records: 0, bad: 0 };
      readFault = trigger(task.faults, 'read', { split: a.split.index, attempt: a.attempt });
      try {
        await readSplit(a.split, sink);
      } catch (e) {
        if (e instanceof BadRecordError && e.origin) e.message = `${await locate(a.split, e.origin)}: ${e.message}`;
        throw e;
      }
      finished.push(currentPart(true));
      reading = false;
      if (a.commit) commit();
    }
    if (finished.length > 0) commit();
    return { commits };
  } finally {
    task.port.close();
  }
}

/** The buffers that can move to the coordinator without a copy: each wholly owned by one chunk. */
function transferable(chunks: Uint8Array[]): ArrayBuffer[] {
  const owned = chunks.filter((c) => c.byteOffset === 0 && c.byteLength === c.buffer.byteLength).map((c) => c.buffer as ArrayBuffer);
  return [...new Set(owned)].length === owned.length ? owned : [];
}

/** Where a record is, for an error: file and line when there is a file. */
async function locate(split: SplitSpec, o: Origin): Promise<string> {
  if (split.kind === 'csv') return `${split.file} line ${await csvLineOf(split, o.position)}`;
  if (split.kind === 'ndjson') return `${split.file} line ${await lineOf(split.file, o.offset!)}`;
  return `${describeSplit(split)} record ${o.position}`;
}
