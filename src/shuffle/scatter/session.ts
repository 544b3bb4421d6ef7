/**
 * The scatter worker: a *session* reads split after split, as the coordinator hands them out
 * (so a thread that runs slower simply reads fewer: the threads end together), partitions
 * their records by key, and appends them to the store in large MessagePack chunks (LMDB pays
 * per entry, not per byte). A groupBy's per-key states carry across the session's splits, so
 * its key count costs once per session, not once per split. Which partition a record goes to,
 * and in what form, is the session's placement (scatter/placement.ts: by hash, or a sort's by
 * key range).
 *
 * Each *commit* — when the memory budget (or COMMIT_BYTES) fills, when the coordinator asks
 * for one after a split, and at the end — hands the coordinator (over a MessagePort; chunk buffers move, not
 * copied) the chunks and one part marker per split read since the last commit, which it
 * writes as ONE guarded transaction (runtime/commits.ts). Workers never write: a thread terminated
 * inside a write transaction would hang the process, and workers are terminated on timeouts
 * and aborts. A split comes with the position its committed parts reach, and records before
 * it are skipped, so a retry never counts a record twice.
 */
import type { MessagePort } from 'node:worker_threads';
import { BadRecordError } from '../../errors.js';
import type { SplitPart } from '../runtime/commits.js';
import { trigger } from '../runtime/faults.js';
import { locate } from '../input/locate.js';
import { byteFields } from '../groupby/byte-groups.js';
import { Combine } from './combine.js';
import { type Assignment, type ScatterResult, type ScatterTask, type SessionMessage, type SplitRead } from '../protocol.js';
import { keyFunction, keyName, keyThrew, unpaired } from './record-key.js';
import { Outbox } from './outbox.js';
import { placement, type Placement } from './placement.js';
import { loadReducers, misfit, ordered, ordinal, valueCheck, type CustomReducer } from '../groupby/aggregations.js';
import { UNPAIRED_KEY } from '../groupby/groups.js';
import { readSplit } from '../input/read.js';
import { originOf, type KeyedRows, type Origin, type RecordSink, type SplitSpec } from '../input/splits.js';

/** Rough heap size of one buffered (not yet encoded) record, to count buffers against the budget. */
const RECORD_BYTES = 128;
/** Rough size of one combined group in memory, to bound the combine map by the budget. */
const GROUP_BYTES = 200;
/** Buffered bytes past which a session commits whatever its budget: its buffers, and their copy in flight to the coordinator, are most of a shuffle's peak memory. */
const COMMIT_BYTES = 32 << 20;
const ORD = 2 ** 32;

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
  let session: Session | undefined;
  try {
    let a = await next(); // first: a failure to load the modules below is then blamed on a split
    if (a === null) return { commits: 0 };
    session = await Session.start(task);
    for (; a !== null; a = await next(session.report())) {
      session.begin(a);
      await readSplit(a.split, session.sink);
      session.finish(a);
    }
    return { commits: session.end() };
  } catch (e) {
    if (e instanceof BadRecordError && e.origin && session)
      e.message = `${await locate(session.splitOf(e.origin), e.origin, task.join?.side)}: ${e.message}`;
    throw e;
  } finally {
    task.port.close();
  }
}

/** One session's state: the split being read, and what it buffered since its last commit. */
class Session {
  readonly #task: ScatterTask;
  readonly #keyOf: (record: unknown) => unknown;
  /** Records not combined: their values' check (combined groups check as they add). */
  readonly #check: ((record: unknown) => number) | undefined;
  readonly #place: Placement;
  readonly #ordered: boolean;
  /** Map-side combine: groups' states instead of records. */
  readonly #combine: Combine | undefined;
  readonly #faulty: boolean;

  /** The split being read (while `#reading`); `from`/`part`: its part not yet committed. */
  #cur!: Assignment;
  #reading = false;
  /** Of the current split: the next position, and its counts since its last commit. */
  #position = 0;
  #records = 0;
  #bad = 0;
  /** Of the current split, in parts already committed. */
  #earlier = { records: 0, bad: 0 };
  #readFault: (position: number) => void = () => undefined;

  /** Parts of the splits read to their end since the last commit, and every split read since it. */
  #finished: SplitPart[] = [];
  readonly #specs = new Map<number, SplitSpec>();
  readonly #outbox: Outbox;
  #commits = 0;

  readonly sink: RecordSink;

  private constructor(task: ScatterTask, keyOf: (record: unknown) => unknown, reducers: (CustomReducer | undefined)[] | undefined) {
    this.#task = task;
    this.#keyOf = keyOf;
    const plan = task.group?.plan ?? [];
    this.#place = placement(task);
    this.#ordered = ordered(plan);
    this.#outbox = new Outbox(this.#place.stores, (ord, why) => this.#unstorable(ord, why), this.#place.framing);
    const fields = reducers && task.group!.combine ? byteFields(task.key, plan) : undefined;
    const maxGroups = Math.max(1000, Math.floor(task.budget / GROUP_BYTES));
    this.#combine =
      reducers && task.group!.combine ? new Combine(plan, reducers, fields?.values, task.partitions, maxGroups, this.#outbox) : undefined;
    this.#check = this.#combine ? undefined : valueCheck(plan);
    this.#faulty = (task.faults ?? []).some((f) => f.at === 'read');

    this.sink = {
      record: (record, pos, at) => this.#record(record, pos, at),
      bad: (error, pos) => {
        if (pos >= this.#position) this.#refuse(error, pos); // else committed by an earlier attempt
      },
      keyed: fields && { ...fields, add: (position, bytes, rows) => this.#keyed(position, bytes, rows) },
    };
  }

  /** A session with the task's modules loaded (key function, custom reducers). */
  static async start(task: ScatterTask): Promise<Session> {
    return new Session(task, await keyFunction(task.key), task.group ? await loadReducers(task.group.plan) : undefined);
  }

  /** Split `a` is read to its end: its part is final. */
  finish(a: Assignment): void {
    this.#finished.push(this.#part(true));
    this.#reading = false;
    if (a.commit) this.#commit();
  }

  /** What the session reports with its next request: the split it has just read. */
  report(): SplitRead {
    return { split: this.#cur.split.index, records: this.#earlier.records + this.#records, bad: this.#earlier.bad + this.#bad };
  }

  /** Commits what is left; the number of commits posted. */
  end(): number {
    if (this.#finished.length > 0) this.#commit();
    return this.#commits;
  }

  /** The split a bad record's origin points into. */
  splitOf(origin: Origin): SplitSpec {
    return (origin.split === undefined ? undefined : this.#specs.get(origin.split)) ?? this.#cur.split;
  }

  /** Starts reading split `a`: what the sink is handed next belongs to it. */
  begin(a: Assignment): void {
    this.#cur = a;
    this.#specs.set(a.split.index, a.split);
    this.#reading = true;
    this.#position = a.from;
    this.#records = this.#bad = 0;
    this.#earlier = { records: 0, bad: 0 };
    this.#readFault = trigger(this.#task.faults, 'read', { split: a.split.index, attempt: a.attempt });
  }

  #record(record: unknown, pos: number, at?: number): void {
    if (pos < this.#position) return; // committed by an earlier attempt
    if (this.#faulty) this.#readFault(pos);
    this.#position = pos + 1;
    let key: unknown;
    try {
      key = this.#keyOf(record);
    } catch (e) {
      return this.#refuse(this.#badRecord(keyThrew(e), pos, at), pos);
    }
    const place = this.#place;
    // a string key is checked here unless combined: the combine checks each new key once (groupby/groups.ts)
    if (typeof key !== 'string' || place.checkStrings || (!this.#combine && !key.isWellFormed())) {
      const why = place.misfit(key);
      if (why !== undefined) return this.#refuse(this.#badRecord(why, pos, at), pos);
    }
    const ord = ordinal(this.#cur.split.index, pos);
    const failed = this.#combine
      ? this.#combine.add(key as string | number, record, this.#ordered ? ord : 0)
      : (this.#check?.(record) ?? -1);
    if (failed === UNPAIRED_KEY)
      return this.#refuse(this.#badRecord(`${keyName(this.#task.key)}: ${unpaired(key as string)}`, pos, at), pos);
    if (failed >= 0) return this.#refuse(this.#badRecord(misfit(this.#task.group!.plan[failed]!, record), pos, at), pos);
    this.#records++;
    let due: boolean;
    if (this.#combine) due = this.#combine.full || this.#outbox.bytes >= this.#task.budget;
    else {
      const { budget } = this.#task;
      const outbox = this.#outbox;
      outbox.push(place.partition(key, ord, pos), place.entry(key, ord, record), ord, key);
      if (outbox.buffered * RECORD_BYTES >= budget / 2) outbox.frameAll(); // many partitions, each short of a frame: frame them all
      due = outbox.bytes + outbox.buffered * RECORD_BYTES >= Math.min(budget, COMMIT_BYTES);
    }
    if (due) this.#commit();
  }

  /** A block's records as key bytes and values (a reader's fast path: no record object, and nothing to check). */
  #keyed(position: number, bytes: Uint8Array, rows: KeyedRows): void {
    const combine = this.#combine!;
    for (let r = Math.max(0, this.#position - position); r < rows.count;) {
      // rows before the session's position were committed by an earlier attempt
      if (this.#faulty) this.#readFault(position + r);
      const done = combine.addRows(bytes, rows, r, this.#faulty ? r + 1 : rows.count);
      this.#records += done - r;
      this.#position = position + done;
      r = done;
      if (combine.full) this.#commit();
    }
  }

  #badRecord(message: string, pos: number, at?: number): BadRecordError {
    const error = new BadRecordError(message);
    error.origin = originOf(this.#cur.split, pos, at);
    return error;
  }

  /** A bad record of the current split: thrown, or skipped and counted. */
  #refuse(error: BadRecordError, pos: number): void {
    this.#position = pos + 1;
    if (this.#task.onBadRecord === 'error') throw error;
    this.#bad++;
  }

  #part(final: boolean): SplitPart {
    const c = this.#cur;
    return {
      split: c.split.index,
      part: c.part,
      lease: c.lease,
      marker: { from: c.from, to: this.#position, records: this.#records, bad: this.#bad, bytes: 0, final },
    };
  }

  #unstorable(ord: number, why: string): void {
    const split = Math.floor(ord / ORD);
    const error = new BadRecordError(`the record cannot be stored (MessagePack: ${why})`);
    error.origin = { position: ord % ORD, split };
    if (this.#task.onBadRecord === 'error') throw error;
    // Counted as read into a part not yet committed (buffers empty at each commit): now a bad one.
    const part = this.#reading && this.#cur.split.index === split ? undefined : this.#finished.findLast((x) => x.split === split)!.marker;
    if (part) (part.records--, part.bad++);
    else (this.#records--, this.#bad++);
  }

  /** Hands the coordinator the chunks and a marker per part read since the last commit. */
  #commit(): void {
    this.#combine?.drain();
    const { entries, bytes } = this.#outbox.take();
    if (this.#place.alongside && entries.length > 0) entries.push(this.#place.alongside(entries));
    const parts = this.#reading ? [...this.#finished, this.#part(false)] : this.#finished;
    parts[0]!.marker.bytes = bytes; // the commit's chunks serve all its parts: counted once
    const message: SessionMessage = { type: 'commit', entries, parts };
    this.#task.port.postMessage(message, transferable(entries.map(([, chunk]) => chunk)));
    this.#commits++;
    this.#finished = [];
    this.#specs.clear();
    if (this.#reading) {
      this.#specs.set(this.#cur.split.index, this.#cur.split);
      this.#cur = { ...this.#cur, part: this.#cur.part + 1, from: this.#position };
      this.#earlier = { records: this.#earlier.records + this.#records, bad: this.#earlier.bad + this.#bad };
      this.#records = this.#bad = 0;
    }
  }
}

/** The buffers that can move to the coordinator without a copy: each wholly owned by one chunk. */
function transferable(chunks: Uint8Array[]): ArrayBuffer[] {
  const owned = chunks.filter((c) => c.byteOffset === 0 && c.byteLength === c.buffer.byteLength).map((c) => c.buffer as ArrayBuffer);
  return [...new Set(owned)].length === owned.length ? owned : [];
}
