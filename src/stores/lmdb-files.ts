/**
 * Large values of an `Lmdb` store live in append-only *value files* beside the database, and
 * the database holds a 32-byte pointer to each (a value log, as WiscKey does): LMDB would
 * copy a large value into its dirty pages and then write those, and on W1-large (100 kB
 * values) that made it run at about half the speed of one `write` to the page cache.
 *
 * - Each writing instance appends to its own file, `values/<id>`, so writers never share a
 *   file offset. Its bytes are written inside the append's write transaction (so under LMDB's
 *   writer lock), and fsynced before the commit when the store syncs: a committed pointer
 *   never points past what is on disk. An aborted transaction leaves unreferenced bytes, which
 *   the next write overwrites.
 * - The registry `0x00 'v' · id → live bytes` counts what pointers still reference. A delete
 *   that brings a file to zero retires it (registry entry removed in the transaction, file
 *   unlinked after the commit); `drop` retires every file. A writer checks its registry entry
 *   inside each transaction and starts a new file when its own was retired.
 * - A writer starts a new file once its file holds `maxFile` bytes (at a transaction's start).
 *   A file whose live bytes are below half its size is *compacted* when its writer leaves it,
 *   and when a delete lowers them once it is no writer's: its live values are copied to the
 *   writer's file, their pointers rewritten, and it is retired — so deleted values give their
 *   space back. The index `0x00 'r' · file · pointer key` lists what points into each file; a
 *   file with pointers it does not list (written before the index existed) is never compacted.
 * - Readers open the files a read needs and close them when it is done. A file unlinked under
 *   a reader whose snapshot still points into it gives ENOENT: the read is retried on a fresh
 *   snapshot, which no longer points there.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Database } from 'lmdb';

const REGISTRY = Buffer.from([0, 0x76]);
const REGISTRY_END = Buffer.from([0, 0x77]);
const INDEX = Buffer.from([0, 0x72]);
const NOTHING = Buffer.from([1]); // an index entry's value: only its key matters
/** Values are copied in pieces of at most this size when a file is compacted. */
const COPY_PIECE = 16 << 20;
/** A synced store starts writing back its file every this many bytes, before the commit's fdatasync. */
const WRITEBACK_BYTES = 2 << 20;
/** A pointer: file id (16 bytes) · offset (8) · length (8). */
export const POINTER_BYTES = 32;

type Db = Database<Buffer, Buffer>;

/** Where a value is: its file, offset and length. */
interface Pointer {
  file: string;
  offset: number;
  length: number;
}

export function parsePointer(p: Buffer): Pointer {
  return { file: p.subarray(0, 16).toString('hex'), offset: Number(p.readBigUInt64BE(16)), length: Number(p.readBigUInt64BE(24)) };
}

const registryKey = (file: string) => Buffer.concat([REGISTRY, Buffer.from(file, 'hex')]);
const indexKey = (file: string, key: Buffer) => Buffer.concat([INDEX, Buffer.from(file, 'hex'), key]);
/** The index range of one file (data keys are UTF-8 or hex: never 0xFF). */
const indexRange = (file: string) => ({ start: indexKey(file, Buffer.alloc(0)), end: indexKey(file, Buffer.from([0xff])) });

/** The file this instance appends to; `registered` once a commit put it in the registry. */
interface Writer {
  file: string;
  fd: number;
  size: number;
  registered: boolean;
  /** Bytes written since writeback was last started (synced stores). */
  unflushed: number;
  /** A second descriptor for background fdatasyncs, and how many are running. */
  syncFd?: number;
  syncs: number;
  closed: boolean;
}

/** The value files of one store instance. */
export class ValueFiles {
  readonly dir: string;
  #writer: Writer | undefined;
  #written = 0; // bytes written by the open transaction
  readonly #live = new Map<string, number>(); // live-byte changes of the open transaction, by file
  #retired: string[] = [];

  /**
   * @param storePath the store's directory
   * @param sync fsync a file before the commit that points into it
   * @param maxFile bytes after which a writer starts a new file
   */
  constructor(
    storePath: string,
    readonly sync: boolean,
    readonly maxFile: number,
  ) {
    this.dir = path.join(storePath, 'values');
  }

  /** Writes `value` to this instance's file and a pointer to it at `key` (inside a write transaction). */
  put(db: Db, key: Buffer, value: Uint8Array): void {
    const w = this.#ownFile(db);
    writeAt(w.fd, value, w.size + this.#written);
    this.#wrote(w, value.length);
    this.#point(db, w, key, value.length);
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
    for (const [file, change] of [...this.#live]) if (change < 0 && file !== this.#writer?.file) this.#compactIfSparse(db, file);
    for (const file of this.#live.keys()) {
      const live = this.#liveOf(db, file);
      if (live > 0n) db.putSync(registryKey(file), u64(live));
      else {
        db.removeSync(registryKey(file));
        this.#retired.push(file);
      }
    }
    if (this.sync && this.#written > 0) fs.fdatasyncSync(this.#writer!.fd);
  }

  /** After the transaction: committed, or not. */
  afterCommit(committed: boolean): void {
    if (committed && this.#writer) {
      this.#writer.size += this.#written;
      this.#writer.registered ||= this.#written > 0 || this.#live.has(this.#writer.file);
    }
    const retired = committed ? this.#retired : [];
    this.#written = 0;
    this.#live.clear(); // every transaction of the store passes here: no allocation when idle
    if (this.#retired.length > 0) this.#retired = [];
    for (const file of retired) {
      if (file === this.#writer?.file) this.#closeWriter();
      fs.rmSync(path.join(this.dir, file), { force: true });
    }
  }

  /** Reads pointed-to values; `files` keeps the descriptors one read opened (see `closeAll`). */
  read(pointer: Buffer, files: Map<string, number>, into?: Uint8Array, at = 0): Uint8Array {
    const { file, offset, length } = parsePointer(pointer);
    return this.#readAt(files, file, offset, length, into ?? Buffer.allocUnsafe(length), into ? at : 0);
  }

  /** A pointed-to value in pieces of at most `max` bytes (`iterate` never holds more at once). */
  *pieces(pointer: Buffer, files: Map<string, number>, max: number): Generator<Uint8Array> {
    const { file, offset, length } = parsePointer(pointer);
    for (let off = 0; off < length; off += max) {
      const n = Math.min(max, length - off);
      yield this.#readAt(files, file, offset + off, n, Buffer.allocUnsafe(n), 0);
    }
  }

  /** Opens the file a pointer points into (kept in `files`), so that it stays readable if it is retired. */
  open(pointer: Buffer, files: Map<string, number>): number {
    return this.#fd(files, parsePointer(pointer).file);
  }

  #fd(files: Map<string, number>, file: string): number {
    let fd = files.get(file);
    if (fd === undefined) files.set(file, (fd = fs.openSync(path.join(this.dir, file), 'r')));
    return fd;
  }

  #readAt(files: Map<string, number>, file: string, offset: number, length: number, out: Uint8Array, at: number): Uint8Array {
    const fd = this.#fd(files, file);
    for (let got = 0; got < length; ) {
      const n = fs.readSync(fd, out, at + got, length - got, offset + got);
      if (n === 0) throw new Error(`value file ${file} ends before offset ${offset + length}`);
      got += n;
    }
    return out.subarray(at, at + length);
  }

  close(): void {
    this.#closeWriter();
  }

  /** Points `key` at the next `length` bytes of writer `w`, which the caller has written. */
  #point(db: Db, w: Writer, key: Buffer, length: number): void {
    const p = Buffer.allocUnsafe(POINTER_BYTES);
    Buffer.from(w.file, 'hex').copy(p, 0);
    p.writeBigUInt64BE(BigInt(w.size + this.#written), 16);
    p.writeBigUInt64BE(BigInt(length), 24);
    this.#written += length;
    this.#change(w.file, length);
    db.putSync(key, p);
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
    const w = this.#ownFile(db);
    const files = new Map<string, number>();
    try {
      let to = w.size + this.#written;
      for (const [, from] of moves) {
        for (let off = 0; off < from.length; off += COPY_PIECE) {
          const n = Math.min(COPY_PIECE, from.length - off);
          writeAt(w.fd, this.#readAt(files, file, from.offset + off, n, Buffer.allocUnsafe(n), 0), to);
          this.#wrote(w, n);
          to += n;
        }
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOSPC') return; // what was copied lies past the end: overwritten later
      throw e;
    } finally {
      closeAll(files);
    }
    for (const [at, from] of moves) {
      db.removeSync(indexKey(file, at));
      this.#change(file, -from.length);
      this.#point(db, w, at, from.length);
    }
  }

  /** This instance's file, checked against the registry: a retired one is replaced; a full one too, between transactions. */
  #ownFile(db: Db): Writer {
    const w = this.#writer;
    const full = w !== undefined && this.#written === 0 && w.size >= this.maxFile;
    if (w && !full && (!w.registered || db.get(registryKey(w.file)) !== undefined)) return w;
    this.#closeWriter();
    fs.mkdirSync(this.dir, { recursive: true });
    const file = randomBytes(16).toString('hex');
    this.#writer = { file, fd: fs.openSync(path.join(this.dir, file), 'wx'), size: 0, registered: false, unflushed: 0, syncs: 0, closed: false };
    // Deletes that hit a file while it was being written to do not compact it: it is checked as it is left.
    if (full) this.#compactIfSparse(db, w.file);
    return this.#writer;
  }

  /** A file's live bytes as the open transaction leaves them. */
  #liveOf(db: Db, file: string): bigint {
    return (db.get(registryKey(file))?.readBigUInt64BE(0) ?? 0n) + BigInt(this.#live.get(file) ?? 0);
  }

  #change(file: string, bytes: number): void {
    this.#live.set(file, (this.#live.get(file) ?? 0) + bytes);
  }

  /**
   * On a synced store, every WRITEBACK_BYTES written starts an fdatasync in the threadpool, so
   * the disk writes while this thread copies the rest: the commit's own fdatasync then has less
   * left to wait for (~40% more durable MB/s here). It runs on a second descriptor, so a write
   * error is still reported to the commit's fdatasync on the first (Linux reports it per open file).
   */
  #wrote(w: Writer, bytes: number): void {
    if (!this.sync || (w.unflushed += bytes) < WRITEBACK_BYTES) return;
    w.unflushed = 0;
    w.syncFd ??= fs.openSync(path.join(this.dir, w.file), 'r');
    w.syncs++;
    fs.fdatasync(w.syncFd, () => {
      if (--w.syncs === 0 && w.closed) fs.closeSync(w.syncFd!);
    });
  }

  #closeWriter(): void {
    const w = this.#writer;
    this.#writer = undefined;
    if (!w) return;
    fs.closeSync(w.fd);
    w.closed = true;
    if (w.syncFd !== undefined && w.syncs === 0) fs.closeSync(w.syncFd);
  }
}

/** Closes the descriptors a read opened. */
export function closeAll(files: Map<string, number>): void {
  for (const fd of files.values()) fs.closeSync(fd);
  files.clear();
}

function writeAt(fd: number, bytes: Uint8Array, position: number): void {
  for (let off = 0; off < bytes.length; ) off += fs.writeSync(fd, bytes, off, bytes.length - off, position + off);
}

function u64(n: bigint): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeBigUInt64BE(n);
  return b;
}
