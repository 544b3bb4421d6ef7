/**
 * The scatter worker: reads one split, partitions its records by key, and appends them to
 * the store in large MessagePack chunks (LMDB pays per entry, not per byte).
 *
 * Each *part* — everything buffered when the memory budget fills, and the rest at the end —
 * is handed to the coordinator (a MessagePort, chunk buffers transferred, not copied), which
 * commits it as ONE guarded append — one LMDB transaction, together with its marker
 * (commits.ts). Workers never write: a thread terminated inside a write transaction would
 * hang the process, and workers are terminated on timeouts and aborts. An attempt first
 * reads the split's markers: a split already final is not redone, and records before the
 * last committed position are skipped, so a retry never counts a record twice.
 */
import { BadRecordError } from '../errors.js';
import { Msgpack } from '../layers/values.js';
import { keyId } from '../keys.js';
import type { MessagePort } from 'node:worker_threads';
import { readMarkers, type PartMarker } from './commits.js';
import { trigger, type Fault } from './faults.js';
import { Lmdb } from '../stores/lmdb.js';
import { loadRef, type ResolvedRef } from './modules.js';
import { partitionOf } from './partitioner.js';
import { groupsOf } from './groups.js';
import { aggregator, ordinal, type PlannedAgg } from './reducers.js';
import { csvLineOf } from './csv.js';
import { lineOf } from './file-bytes.js';
import { describeSplit, originOf, readSplit, type Origin, type SplitSpec } from './splits.js';

/** How a record's key is found: a field name, or a function module. */
export type KeySpec = { field: string } | ResolvedRef;

/** One scatter task. */
export interface ScatterTask {
  split: SplitSpec;
  key: KeySpec;
  partitions: number;
  /** Path of the Lmdb store. */
  store: string;
  /** Encoded bytes to buffer before committing a part. */
  budget: number;
  onBadRecord: 'error' | 'skip';
  /** groupBy: aggregate per key before the shuffle (states must be mergeable), or tag records with their ordinal. */
  group?: { plan: PlannedAgg[]; combine: boolean };
  /** 1 for the first attempt at this split; only the attempt holding the lease may commit. */
  attempt: number;
  /** Where parts go to be committed (see `PartMessage`). */
  port: MessagePort;
  /** Test-only fault injection (faults.ts). */
  faults?: Fault[];
}

/** A part handed to the coordinator: entries as key ids and bytes, the marker last. */
export interface PartMessage {
  split: number;
  attempt: number;
  part: number;
  entries: [string, Uint8Array][];
  marker: PartMarker;
}

/** What a scatter task reports. */
export interface ScatterResult {
  records: number;
  bad: number;
  bytesRead: number;
  bytesAppended: number;
  parts: number;
  /** Parts handed to the coordinator by this attempt (0: the split was already complete). */
  posted: number;
}

const CHUNK_RECORDS = 4096;
/** Rough heap size of one buffered (not yet encoded) record, to count buffers against the budget. */
const RECORD_BYTES = 128;
/** Rough size of one combined group in memory, to bound the combine map by the budget. */
const GROUP_BYTES = 200;

const stores = new Map<string, { raw: Lmdb; codec: Msgpack }>();
/** The store at `path`, opened once per thread. */
export function openShuffleStore(path: string): { raw: Lmdb; codec: Msgpack } {
  let s = stores.get(path);
  if (!s) {
    // Read-only: workers never write (commits go through the coordinator, see the top of this file).
    const raw = new Lmdb(path, { noSync: true, readOnly: true });
    s = { raw, codec: new Msgpack(raw) };
    stores.set(path, s);
  }
  return s;
}

/** Makes the key function of a spec. */
export async function keyFunction(spec: KeySpec): Promise<(record: unknown) => unknown> {
  if ('field' in spec) {
    // Compiled with the field name as a literal: V8 then reads it like `r.key` (a named, cached
    // property load) rather than a keyed lookup, which matters once per record.
    return new Function('r', `return r == null ? undefined : r[${JSON.stringify(spec.field)}];`) as (record: unknown) => unknown;
  }
  return loadRef<(record: unknown) => unknown>(spec);
}

/** Runs one scatter task. */
export async function scatter(task: ScatterTask): Promise<ScatterResult> {
  const { raw, codec } = openShuffleStore(task.store);
  const split = task.split;
  const done = await readMarkers(raw, split.index);
  const totals = (extra: PartMarker[] = []) => {
    const all = [...done, ...extra];
    return { records: sum(all, 'records'), bad: sum(all, 'bad'), bytesAppended: sum(all, 'bytes'), parts: all.length, bytesRead: splitBytes(split), posted: extra.length };
  };
  if (done.at(-1)?.final) {
    task.port.close();
    return totals(); // committed by an earlier attempt or run: not redone
  }

  const keyOf = await keyFunction(task.key);
  const P = task.partitions;
  const agg = task.group ? await aggregator(task.group.plan) : undefined;
  const ordered = task.group?.plan.some((a) => a.op === 'first' || a.op === 'last' || a.op === 'collect') ?? false;
  const resumeFrom = done.at(-1)?.to ?? 0;
  const where = { split: split.index, attempt: task.attempt };
  const chunkFault = trigger(task.faults, 'chunk', where);

  const committed: PartMarker[] = [];
  let pending: [string, Uint8Array][] = [];
  let pendingBytes = 0;
  let chunks = 0;
  let buffered = 0; // records in `buffers`
  let part = { from: resumeFrom, records: 0, bad: 0 };
  const buffers: unknown[][] = Array.from({ length: P }, () => []);
  const groups = agg && task.group!.combine ? groupsOf(task.group!.plan, agg) : undefined; // map-side combine
  const maxGroups = Math.max(1000, Math.floor(task.budget / GROUP_BYTES));

  const emit = (p: number, values: unknown[]) => {
    const chunk = codec.frameOf(values);
    pending.push([keyId(p), chunk]);
    pendingBytes += chunk.length;
    chunkFault(++chunks);
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
  const commit = (to: number, final: boolean): void => {
    flushBuffers();
    const marker: PartMarker = { ...part, to, bytes: pendingBytes, final };
    const message: PartMessage = { split: split.index, attempt: task.attempt, part: done.length + committed.length, entries: pending, marker };
    task.port.postMessage(message, transferable(pending.map(([, bytes]) => bytes)));
    committed.push(marker);
    pending = [];
    pendingBytes = 0;
    part = { from: to, records: 0, bad: 0 };
  };

  let position = resumeFrom;
  let commitDue = false;
  const bad = (error: BadRecordError, pos: number) => {
    if (pos < resumeFrom) return;
    position = pos + 1;
    if (task.onBadRecord === 'error') throw error;
    part.bad++;
  };
  const sink = {
    record: (record: unknown, pos: number, at?: number) => {
      if (pos < resumeFrom) return; // committed by an earlier attempt
      position = pos + 1;
      const key = keyOf(record);
      if (typeof key !== 'string' && typeof key !== 'number') {
        const error = new BadRecordError(`record has no usable key (got ${key === null ? 'null' : typeof key})`);
        error.origin = originOf(split, pos, at);
        return bad(error, pos);
      }
      part.records++;
      if (groups) {
        groups.add(key, record, ordered ? ordinal(split.index, pos) : 0);
        if (groups.size >= maxGroups) commitDue = true;
      } else {
        const p = partitionOf(key, P);
        const buf = buffers[p]!;
        buf.push(agg ? [key, ordinal(split.index, pos), record] : record);
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
        commit(position, false);
      }
    },
    bad,
  };
  try {
    await readSplit(split, sink);
  } catch (e) {
    if (e instanceof BadRecordError && e.origin) e.message = `${await locate(split, e.origin)}: ${e.message}`;
    throw e;
  }
  commit(position, true);
  task.port.close();
  return totals(committed);
}

/** The buffers that can move to the coordinator without a copy: each wholly owned by one chunk. */
function transferable(chunks: Uint8Array[]): ArrayBuffer[] {
  const owned = chunks.filter((c) => c.byteOffset === 0 && c.byteLength === c.buffer.byteLength).map((c) => c.buffer as ArrayBuffer);
  return [...new Set(owned)].length === owned.length ? owned : [];
}

function sum(markers: PartMarker[], field: 'records' | 'bad' | 'bytes'): number {
  return markers.reduce((n, m) => n + m[field], 0);
}

function splitBytes(split: SplitSpec): number {
  return split.kind === 'ndjson' || split.kind === 'csv' ? split.end - split.start : 0;
}

/** Where a record is, for an error: file and line when there is a file. */
async function locate(split: SplitSpec, o: Origin): Promise<string> {
  if (split.kind === 'csv') return `${split.file} line ${await csvLineOf(split, o.position)}`;
  if (split.kind === 'ndjson') return `${split.file} line ${await lineOf(split.file, o.offset!)}`;
  return `${describeSplit(split)} record ${o.position}`;
}
