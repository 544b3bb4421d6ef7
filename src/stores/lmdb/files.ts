/**
 * Large values of an `Lmdb` store live in append-only *value files* beside the database, and
 * the database holds a 32-byte pointer to each (a value log, as WiscKey does): LMDB would
 * copy a large value into its dirty pages and then write those, and on W1-large (100 kB
 * values) that made it run at about half the speed of one `write` to the page cache.
 *
 * - Each writing instance appends to its own files, `values/<id>`, so writers never share a
 *   file. On a store that does not sync, a call's large values are written before its
 *   transaction, in the threadpool, over STRIPES files at once (`prewrite`); else they are
 *   written inside the transaction, in this thread, and fsynced before the commit when the
 *   store syncs: a committed pointer never points past what is on disk. Space a transaction
 *   reserved and did not commit is given back, or stays unused.
 * - The registry `0x00 'v' · id → live bytes` counts what pointers still reference. A delete
 *   that brings a file to zero retires it (registry entry removed in the transaction, file
 *   unlinked after the commit); `drop` retires every file. A writer checks its registry entry
 *   inside each transaction and starts a new file when its own was retired.
 * - A writer starts a new file once its file holds `maxFile` bytes. A file whose live bytes
 *   are below half its size is *compacted* when its writer leaves it,
 *   and when a delete lowers them once it is no writer's: its live values are copied to the
 *   first writer's file, their pointers rewritten, and it is retired — so deleted values give their
 *   space back. The index `0x00 'r' · file · pointer key` lists what points into each file; a
 *   file with pointers it does not list (written before the index existed) is never compacted.
 * - A prewrite runs outside LMDB's writer lock, so a file it wrote to may be retired by
 *   another instance before the transaction: the transaction then writes those values again.
 * - Readers open the files a read needs and close them when it is done. A file unlinked under
 *   a reader whose snapshot still points into it gives ENOENT: the read is retried on a fresh
 *   snapshot, which no longer points there.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Database } from 'lmdb';
import { OpenFiles, parsePointer, pointerBytes, type Pointer } from './pointers.js';
import { Writer } from './writer.js';
import { settle } from '../writes.js';

const REGISTRY = Buffer.from([0, 0x76]);
const REGISTRY_END = Buffer.from([0, 0x77]);
const INDEX = Buffer.from([0, 0x72]);
const NOTHING = Buffer.from([1]); // an index entry's value: only its key matters
/** Values are copied in pieces of at most this size when a file is compacted. */
const COPY_PIECE = 16 << 20;
/** Files a prewrite spreads a call over: copies run in the threadpool, two at a time. */
const STRIPES = 2;
type Db = Database<Buffer, Buffer>;

/** Where `prewrite` wrote a value. */
export interface Placement {
  writer: Writer;
  offset: number;
}

const registryKey = (file: string) => Buffer.concat([REGISTRY, Buffer.from(file, 'hex')]);
const indexKey = (file: string, key: Buffer) => Buffer.concat([INDEX, Buffer.from(file, 'hex'), key]);
/** The index range of one file (data keys are UTF-8 or hex: never 0xFF). */
const indexRange = (file: string) => ({ start: indexKey(file, Buffer.alloc(0)), end: indexKey(file, Buffer.from([0xff])) });

/** The value files of one store instance. */
export class ValueFiles {
  readonly dir: string;
  readonly #writers: (Writer | undefined)[] = []; // by stripe
  readonly #live = new Map<string, number>(); // live-byte changes of the open transaction, by file
  #retired: string[] = [];
  readonly #left = new Set<string>(); // files writers left, to compact once a transaction commits
  #leftChecked: string[] = [];
  readonly #checked = new Set<Writer>(); // writers found live in the registry by the open transaction
  readonly #closing = new Set<Promise<void>>(); // writers closed whose descriptors the threadpool still uses

  /**
   * @param storePath the store's directory
   * @param sync fsync a file before the commit that points into it
   * @param maxFile bytes after which a writer starts a new file
   * @param prewriteMin a call's bytes from which `prewrite` writes them in the threadpool
   */
  constructor(
    storePath: string,
    readonly sync: boolean,
    readonly maxFile: number,
    readonly prewriteMin: number,
  ) {
    this.dir = path.join(storePath, 'values');
  }

  /**
   * Whether a call's large values gain from `prewrite`: several, and enough bytes that the
   * threadpool's hops cost little beside the copy. Not on a synced store, which is bound by the
   * disk: there, two files synced at once were slower than one (one file, written back as it is
   * written, keeps the disk's writes in one stream; docs/benchmarks.md).
   */
  gainsFromPrewrite(values: readonly Uint8Array[]): boolean {
    return !this.sync && values.length > 1 && values.reduce((n, v) => n + v.length, 0) >= this.prewriteMin;
  }

  /**
   * Writes a call's large values ahead of its transaction, spread over STRIPES files written at
   * once in the threadpool (the page-cache copy is what large appends cost). Returns where each
   * went, for `put`.
   */
  async prewrite(values: readonly Uint8Array[]): Promise<Placement[]> {
    const stripes = Array.from({ length: STRIPES }, () => ({ values: [] as Uint8Array[], bytes: 0 }));
    const stripeOf = values.map((v) => {
      const i = stripes.reduce((least, s, j) => (s.bytes < stripes[least]!.bytes ? j : least), 0);
      stripes[i]!.values.push(v);
      stripes[i]!.bytes += v.length;
      return i;
    });
    const writers = stripes.map((s, i) => (s.values.length > 0 ? this.#stripe(i) : undefined));
    const offsets: number[] = [];
    const writes = stripes.map((s, i) => writers[i] && writers[i].writeInPool(s.values).then((at) => void (offsets[i] = at)));
    await settle(writes.filter((w) => w !== undefined));
    return values.map((v, k) => {
      const i = stripeOf[k]!;
      const offset = offsets[i]!;
      offsets[i] = offset + v.length;
      return { writer: writers[i]!, offset };
    });
  }

  /**
   * Points `key` at `value` (inside a write transaction): where `prewrite` put it if that file
   * is still this instance's and live, else written now to this instance's file.
   */
  put(db: Db, key: Buffer, value: Uint8Array, placed?: Placement): void {
    if (placed) {
      const i = this.#writers.indexOf(placed.writer);
      if (i >= 0 && (this.#checked.has(placed.writer) || this.#valid(db, placed.writer))) {
        this.#checked.add(placed.writer); // checked once per transaction, not once per value
        return this.#point(db, placed.writer, key, placed.offset, value.length);
      }
      if (i >= 0) this.#closeStripe(i); // another instance retired its file meanwhile
    }
    const w = this.#stripe(0, db);
    const at = w.reserve(value.length);
    w.writeAt(value, at);
    this.#point(db, w, key, at, value.length);
  }

  /** The pointer at `key` is being removed (inside a write transaction). */
  release(db: Db, key: Buffer, pointer: Buffer): void {
    const { file, length } = parsePointer(pointer);
    this.#change(file, -length);
    db.removeSync(indexKey(file, key));
  }

  /** Retires every file (inside the write transaction that empties the store). */
  retireAll(db: Db): void {
    for (const key of db.getKeys({ start: REGISTRY, end: REGISTRY_END })) this.#retired.push(key.subarray(REGISTRY.length).toString('hex'));
    this.#live.clear();
  }

  /** Last step of a write transaction: sparse files compacted, live counts stored, files retired, bytes synced. */
  beforeCommit(db: Db): void {
    this.#leftChecked = [...this.#left];
    for (const file of this.#leftChecked) {
      if (!this.#live.has(file) && db.get(registryKey(file)) === undefined)
        this.#retired.push(file); // no commit ever pointed into it
      else this.#compactIfSparse(db, file);
    }
    for (const [file, change] of [...this.#live]) if (change < 0 && !this.#isWriter(file)) this.#compactIfSparse(db, file);
    for (const file of this.#live.keys()) {
      const live = this.#liveOf(db, file);
      if (live > 0n) db.putSync(registryKey(file), u64(live));
      else {
        db.removeSync(registryKey(file));
        this.#retired.push(file);
      }
    }
    for (const w of this.#writers) w?.syncDirty();
  }

  /** After the transaction: committed, or not. */
  afterCommit(committed: boolean): void {
    for (const w of this.#writers) {
      if (!w) continue;
      w.registered ||= committed && this.#live.has(w.file);
      if (committed) w.commit();
      else w.rewind();
    }
    this.#checked.clear();
    if (committed) for (const file of this.#leftChecked) this.#left.delete(file);
    this.#leftChecked = [];
    const retired = committed ? this.#retired : [];
    this.#live.clear(); // every transaction of the store passes here: no allocation when idle
    if (this.#retired.length > 0) this.#retired = [];
    for (const file of retired) {
      const i = this.#writers.findIndex((w) => w?.file === file);
      if (i >= 0) this.#closeStripe(i);
      fs.rmSync(path.join(this.dir, file), { force: true });
    }
  }

  /**
   * Closes this instance's files, once the threadpool is done with them; one no commit points
   * into holds nothing and is removed.
   */
  async close(): Promise<void> {
    for (let i = 0; i < this.#writers.length; i++) {
      const w = this.#writers[i];
      this.#closeStripe(i);
      if (w && !w.registered) fs.rmSync(path.join(this.dir, w.file), { force: true });
    }
    await Promise.all(this.#closing);
  }

  /** Points `key` at `length` bytes at `offset` of writer `w`, which the caller has written. */
  #point(db: Db, w: Writer, key: Buffer, offset: number, length: number): void {
    this.#change(w.file, length);
    db.putSync(key, pointerBytes({ file: w.file, offset, length }));
    db.putSync(indexKey(w.file, key), NOTHING);
  }

  /**
   * Moves a file's live values to this instance's file when they fill less than half of it:
   * all are copied first, then their pointers rewritten, so a disk too full for the copies
   * leaves the file as it was and the transaction goes on.
   */
  #compactIfSparse(db: Db, file: string): void {
    const live = this.#liveOf(db, file);
    const size = fs.statSync(path.join(this.dir, file), { throwIfNoEntry: false })?.size;
    if (live <= 0n || size === undefined || live * 2n >= BigInt(size)) return;
    const moves: [Buffer, Pointer][] = [];
    let listed = 0n;
    for (const { key } of db.getRange(indexRange(file))) {
      const at = key.subarray(INDEX.length + 16);
      const pointer = db.get(at);
      const from = pointer && parsePointer(pointer);
      if (from?.file !== file) continue;
      moves.push([at, from]);
      listed += BigInt(from.length);
    }
    if (listed !== live) return; // pointers the index does not list: leave the file as it is
    const w = this.#stripe(0, db);
    const start = w.reserve(Number(live));
    const files = new OpenFiles(this.dir);
    try {
      let to = start;
      for (const [, from] of moves) {
        for (const piece of files.pieces(from, COPY_PIECE)) {
          w.writeAt(piece, to);
          to += piece.length;
        }
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
      if (w.size === start + Number(live)) w.truncate(start);
      return;
    } finally {
      files.close();
    }
    let to = start;
    for (const [at, from] of moves) {
      db.removeSync(indexKey(file, at));
      this.#change(file, -from.length);
      this.#point(db, w, at, to, from.length);
      to += from.length;
    }
  }

  /**
   * The writer of stripe `i`: a new file when it has none, or when its file is full (which is
   * then compacted as it is left). With `db` (inside a transaction), one whose file another
   * instance retired is replaced too.
   */
  #stripe(i: number, db?: Db): Writer {
    const w = this.#writers[i];
    if (w && db && !this.#valid(db, w)) this.#closeStripe(i);
    else if (w && w.size >= this.maxFile) {
      w.syncDirty();
      this.#closeStripe(i);
      // Deletes that hit a file while it was being written to do not compact it: it is checked as it is left.
      this.#left.add(w.file);
    }
    let writer = this.#writers[i];
    if (!writer) {
      fs.mkdirSync(this.dir, { recursive: true });
      this.#writers[i] = writer = new Writer(this.dir, randomBytes(16).toString('hex'), this.sync);
    }
    return writer;
  }

  /** False once another instance retired the writer's file (inside a transaction). */
  #valid(db: Db, w: Writer): boolean {
    return !w.registered || db.get(registryKey(w.file)) !== undefined;
  }

  #isWriter(file: string): boolean {
    return this.#writers.some((w) => w?.file === file);
  }

  #closeStripe(i: number): void {
    const closing = this.#writers[i]?.close();
    this.#writers[i] = undefined;
    if (!closing) return;
    this.#closing.add(closing);
    void closing.then(() => this.#closing.delete(closing));
  }

  /** A file's live bytes as the open transaction leaves them. */
  #liveOf(db: Db, file: string): bigint {
    return (db.get(registryKey(file))?.readBigUInt64BE(0) ?? 0n) + BigInt(this.#live.get(file) ?? 0);
  }

  #change(file: string, bytes: number): void {
    this.#live.set(file, (this.#live.get(file) ?? 0) + bytes);
  }
}

function u64(n: bigint): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeBigUInt64BE(n);
  return b;
}
