/**
 * The scatter worker: reads one split, partitions its records by key, and appends them to
 * the store in large MessagePack chunks (LMDB pays per entry, not per byte).
 *
 * Each *part* — everything buffered when the memory budget fills, and the rest at the end —
 * is ONE append call, so one LMDB transaction, together with a marker key
 * `tuple('split', index, part)` recording its record range. A part is thus all there or
 * absent: a retried split can tell exactly which of its records already landed.
 */
import { BadRecordError } from '../errors.js';
import { Msgpack } from '../layers/values.js';
import { tuple, type Key } from '../keys.js';
import { Lmdb } from '../stores/lmdb.js';
import { loadRef, type ResolvedRef } from './modules.js';
import { partitionOf } from './partitioner.js';
import { aggregator, ordinal, type PlannedAgg } from './reducers.js';
import { csvLineOf, describeSplit, lineOf, originOf, readSplit, type Origin, type SplitSpec } from './splits.js';

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
}

/** What a scatter task reports. */
export interface ScatterResult {
  records: number;
  bad: number;
  bytesRead: number;
  bytesAppended: number;
  parts: number;
}

const CHUNK_RECORDS = 4096;
/** Rough size of one combined group in memory, to bound the combine map by the budget. */
const GROUP_BYTES = 200;

const stores = new Map<string, { raw: Lmdb; codec: Msgpack }>();
/** The store at `path`, opened once per thread. */
export function openShuffleStore(path: string): { raw: Lmdb; codec: Msgpack } {
  let s = stores.get(path);
  if (!s) {
    const raw = new Lmdb(path);
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
  const keyOf = await keyFunction(task.key);
  const P = task.partitions;
  const result: ScatterResult = { records: 0, bad: 0, bytesRead: 0, bytesAppended: 0, parts: 0 };
  let pending: [Key, Uint8Array][] = [];
  let pendingBytes = 0;
  let partFrom = 0; // first record position of the current part

  // Takes the part's state synchronously, so records arriving meanwhile start the next part.
  const commit = (upTo: number): Promise<void> => {
    const batch = pending;
    const bytes = pendingBytes;
    const marker = Buffer.from(JSON.stringify({ from: partFrom, to: upTo, records: result.records, bad: result.bad }));
    batch.push([tuple('split', task.split.index, result.parts++), marker]);
    pending = [];
    pendingBytes = 0;
    partFrom = upTo;
    return raw.append(batch).then(() => {
      result.bytesAppended += bytes;
    });
  };
  const emit = (p: number, values: unknown[]) => {
    const chunk = codec.frameOf(values);
    pending.push([p, chunk]);
    pendingBytes += chunk.length;
  };

  // Records are handed over synchronously; a full budget is committed between records.
  let commitDue = false;
  const buffers: unknown[][] = Array.from({ length: P }, () => []);
  const agg = task.group ? await aggregator(task.group.plan) : undefined;
  const groups = new Map<unknown, unknown[]>();
  const maxGroups = Math.max(1000, Math.floor(task.budget / GROUP_BYTES));

  const flushBuffers = () => {
    if (agg && task.group!.combine) {
      const byPartition: unknown[][] = Array.from({ length: P }, () => []);
      for (const [k, states] of groups) byPartition[partitionOf(k, P)]!.push([k, states]);
      groups.clear();
      byPartition.forEach((list, p) => list.length && emit(p, list));
    } else {
      buffers.forEach((list, p) => {
        if (list.length) emit(p, list);
        buffers[p] = [];
      });
    }
  };

  // Records arrive synchronously; when the budget fills, the part is committed between two records.
  let position = 0;
  const parts: Promise<void>[] = [];
  const bad = (error: BadRecordError) => {
    if (task.onBadRecord === 'error') throw error;
    result.bad++;
  };
  const combine = agg !== undefined && task.group!.combine;
  const splitIndex = task.split.index;
  const ordered = task.group?.plan.some((a) => a.op === 'first' || a.op === 'last' || a.op === 'collect') ?? false;
  const sink = {
    record: (record: unknown, pos: number, at?: number) => {
      position = pos + 1;
      const key = keyOf(record);
      if (typeof key !== 'string' && typeof key !== 'number') {
        const error = new BadRecordError(`record has no usable key (got ${key === null ? 'null' : typeof key})`);
        error.origin = originOf(task.split, pos, at);
        return bad(error);
      }
      result.records++;
      if (combine) {
        const states = groups.get(key);
        const ord = ordered ? ordinal(splitIndex, pos) : 0;
        if (states === undefined) groups.set(key, agg.init(record, ord));
        else agg.add(states, record, ord);
        if (groups.size >= maxGroups) commitDue = true;
      } else {
        const p = partitionOf(key, P);
        const buf = buffers[p]!;
        buf.push(agg ? [key, ordinal(splitIndex, pos), record] : record);
        if (buf.length >= CHUNK_RECORDS) {
          emit(p, buf);
          buffers[p] = [];
          if (pendingBytes >= task.budget) commitDue = true;
        }
      }
      if (commitDue) {
        commitDue = false;
        flushBuffers();
        parts.push(commit(position));
      }
    },
    bad,
  };
  let bytes: number;
  try {
    ({ bytes } = await readSplit(task.split, sink));
  } catch (e) {
    if (e instanceof BadRecordError && e.origin) e.message = `${await locate(task.split, e.origin)}: ${e.message}`;
    throw e;
  }
  await Promise.all(parts);
  flushBuffers();
  await commit(position);
  result.bytesRead = bytes;
  return result;
}

/** Where a record is, for an error: file and line when there is a file. */
async function locate(split: SplitSpec, o: Origin): Promise<string> {
  if (split.kind === 'csv') return `${split.file} line ${await csvLineOf(split, o.position)}`;
  if (split.kind === 'ndjson') return `${split.file} line ${await lineOf(split.file, o.offset!)}`;
  return `${describeSplit(split)} record ${o.position}`;
}
