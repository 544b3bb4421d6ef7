/** One value file that an `Lmdb` instance appends to (see lmdb/files.ts). */
import fs from 'node:fs';
import path from 'node:path';
import { writeAll, writeAllSync } from '../writes.js';

/** A synced store starts writing back its file every this many bytes, before the commit's fdatasync. */
const WRITEBACK_BYTES = 2 << 20;

/**
 * A value file open for appending. Space is reserved before it is written, so writes in the
 * threadpool and in this thread never overlap. Space a transaction reserved in this thread and
 * did not commit is given back (the file truncated); space reserved in the threadpool whose
 * transaction did not commit stays unused: dead bytes, which compaction reclaims like deleted ones.
 */
export class Writer {
  #fd: number | undefined;
  readonly #path: string;
  /** Bytes reserved: written, being written, or left unused by a transaction that aborted. */
  size = 0;
  #kept = 0; // space below this is committed, or was reserved by a threadpool write: never given back
  /** A commit pointed into it, so it is in the registry unless retired since. */
  registered = false;
  #dirty = false; // written in this thread by the open transaction, not synced yet (synced stores)
  #unflushed = 0; // bytes written since writeback was last started (synced stores)
  #syncFd: number | undefined; // a second descriptor for background fdatasyncs
  #syncs = 0;
  #writing = 0; // writes in the threadpool
  #closed = false;
  #released: (() => void) | undefined; // resolves close() once both descriptors are closed

  /** Creates the file `file` in `dir`; `sync`: the store syncs its commits. */
  constructor(
    dir: string,
    readonly file: string,
    readonly sync: boolean,
  ) {
    this.#path = path.join(dir, file);
    this.#fd = fs.openSync(this.#path, 'wx');
  }

  /** After a commit: what is reserved so far is kept. */
  commit(): void {
    this.#kept = this.size;
    this.#dirty = false;
  }

  /** After an abort: gives back the space this thread reserved since the last commit. */
  rewind(): void {
    this.truncate(this.#kept);
    this.#dirty = false;
  }

  /**
   * Gives back the space from `at` on, reserved in this thread since the last commit (an
   * abort's, or a compaction's that found no room): the file is truncated there.
   */
  truncate(at: number): void {
    if (this.#writing > 0 || at < this.#kept || at >= this.size) return;
    this.size = at;
    fs.ftruncateSync(this.#open(), at);
  }

  /** Takes the next `bytes` of the file; returns their offset. */
  reserve(bytes: number): number {
    const at = this.size;
    this.size += bytes;
    return at;
  }

  /** Writes `bytes` at `at` (reserved), in this thread. */
  writeAt(bytes: Uint8Array, at: number): void {
    writeAllSync(this.#open(), [bytes], at);
    this.#dirty = this.sync;
    this.#wrote(bytes.length);
  }

  /** Reserves space for `values` and writes them there in the threadpool (not synced: for a store that does not sync); returns their offset. */
  async writeInPool(values: readonly Uint8Array[]): Promise<number> {
    const fd = this.#open(); // stays open until this write is done, even if the writer is closed
    const at = this.reserve(values.reduce((n, v) => n + v.length, 0));
    this.#kept = this.size; // an abort leaves it unused: its transaction may not be the next one
    this.#writing++;
    try {
      await writeAll(fd, values, at);
      return at;
    } finally {
      this.#writing--;
      this.#release();
    }
  }

  /** Syncs what this thread wrote, before the commit that points to it. */
  syncDirty(): void {
    if (this.#dirty) fs.fdatasyncSync(this.#open());
    this.#dirty = false;
  }

  /**
   * Closes the file; descriptors still in use by the threadpool are closed when it is done
   * with them, which the returned promise waits for.
   */
  close(): Promise<void> {
    this.#closed = true;
    this.#release();
    return this.#fd === undefined && this.#syncFd === undefined ? Promise.resolve() : new Promise((resolve) => (this.#released = resolve));
  }

  #open(): number {
    if (this.#closed || this.#fd === undefined) throw new Error(`value file ${this.file} was closed`);
    return this.#fd;
  }

  #release(): void {
    if (!this.#closed) return;
    if (this.#writing === 0 && this.#fd !== undefined) {
      fs.closeSync(this.#fd);
      this.#fd = undefined;
    }
    if (this.#syncs === 0 && this.#syncFd !== undefined) {
      fs.closeSync(this.#syncFd);
      this.#syncFd = undefined;
    }
    if (this.#fd === undefined && this.#syncFd === undefined) this.#released?.();
  }

  /**
   * On a synced store, every WRITEBACK_BYTES written starts an fdatasync in the threadpool, so
   * the disk writes while this thread copies the rest: the commit's own fdatasync then has less
   * left to wait for (more durable MB/s: docs/benchmarks.md). It runs on a second descriptor, so a write
   * error is still reported to the commit's fdatasync on the first (Linux reports it per open file).
   */
  #wrote(bytes: number): void {
    if (!this.sync || (this.#unflushed += bytes) < WRITEBACK_BYTES) return;
    this.#unflushed = 0;
    const fd = (this.#syncFd ??= fs.openSync(this.#path, 'r'));
    this.#syncs++;
    fs.fdatasync(fd, () => {
      this.#syncs--;
      this.#release();
    });
  }
}
