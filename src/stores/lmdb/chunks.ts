/**
 * What an `Lmdb` store's keys hold, read and written inside its transactions: each append
 * call's chunks under `id · 0x00 · seq · piece` (lmdb/keys.ts), small calls in the write log
 * first (lmdb/log.ts), large values as pointers into value files (lmdb/files.ts). `Lmdb`
 * decides when these run (transactions, snapshots, call order); this file, what they do.
 */
import type { Database } from 'lmdb';
import { asBuffer, type Entry } from '../../partd.js';
import { Compaction, LOG_END, LOG_START, LOG_STATS_KEY, belongsInLog, grownStats, packRecords } from './log.js';
import type { Placement, ValueFiles } from './files.js';
import { parsePointer, type OpenFiles, type Pointer } from './pointers.js';
import { POINTER_MARK, chunkKey, isPointer, prefixOf, range, storedIds } from './keys.js';

/** Chunks are stored in pieces of at most this size, so no single entry gets huge. */
const MAX_PIECE = 16 << 20;
const SEQ_KEY = Buffer.from([0, 0x73]); // the append counter; data keys never start with 0x00

/** The chunks of one store's database. */
export class Chunks {
  /**
   * @param db the store's database
   * @param files its value files
   * @param fileMin values from this many bytes on go to value files
   */
  constructor(
    readonly db: Database<Buffer, Buffer>,
    readonly files: ValueFiles,
    readonly fileMin: number,
  ) {}

  /** The values of a call that would go to value files (none when the call goes to the log). */
  largeValues(entries: readonly Entry<Uint8Array>[]): Uint8Array[] {
    return belongsInLog(entries) ? [] : entries.filter(([, v]) => v.length >= this.fileMin).map(([, v]) => v);
  }

  /**
   * Writes entries as one append call (inside a transaction): to the log if they are small and
   * `logged`. `placed`: where `ValueFiles.prewrite` put the call's large values.
   */
  write(entries: readonly Entry<Uint8Array>[], logged = true, placed?: readonly Placement[]): void {
    if (logged && belongsInLog(entries)) {
      const entry = packRecords(entries);
      this.db.putSync(Buffer.concat([LOG_START, this.#nextSeq()]), entry);
      const { value, full } = grownStats(this.db.get(LOG_STATS_KEY), entry.length);
      this.db.putSync(LOG_STATS_KEY, value);
      if (full) this.compact();
      return;
    }
    this.compact();
    const seq = this.#nextSeq();
    let piece = 0; // counts pieces within this call, so repeated ids keep their order
    let large = 0;
    for (const [id, value] of entries) {
      const prefix = prefixOf(this.db, id, true);
      if (value.length < this.fileMin) piece = this.#putChunk(prefix, seq, piece, value);
      else this.files.put(this.db, Buffer.concat([chunkKey(prefix, seq, piece++), POINTER_MARK]), value, placed?.[large++]);
    }
  }

  /** True when the write log holds records. */
  get logged(): boolean {
    return this.db.get(LOG_STATS_KEY) !== undefined;
  }

  /** Moves the log's records into per-key chunks under one new seq (inside a write transaction). */
  compact(): void {
    if (!this.logged) return;
    const { compaction, keys } = this.readLog();
    const seq = this.#nextSeq();
    const scratch = Buffer.allocUnsafeSlow(compaction.largest); // one buffer for every chunk: LMDB copies each put at once
    for (const id of compaction.ids()) this.#putChunk(prefixOf(this.db, id, true), seq, 0, compaction.chunk(id, scratch)!);
    for (const key of keys) this.db.removeSync(key);
    this.db.removeSync(LOG_STATS_KEY);
  }

  /** The log's records, for reading (the caller is in a transaction or has a fresh snapshot). */
  readLog(): { compaction: Compaction; keys: Buffer[] } {
    const compaction = new Compaction();
    const keys: Buffer[] = [];
    for (const { key, value } of this.db.getRange({ start: LOG_START, end: LOG_END })) {
      keys.push(key);
      compaction.add(value);
    }
    return { compaction, keys };
  }

  /**
   * An id's bytes: its chunks, in place or in value files, then `logged` (its bytes in the log)
   * and a copy of `after`, read into one buffer.
   */
  read(id: string, files: OpenFiles, logged?: Uint8Array, after?: Uint8Array): Uint8Array {
    const prefix = prefixOf(this.db, id, false);
    const parts: (Uint8Array | Pointer)[] = []; // values in place, or pointers to them
    let total = 0;
    if (prefix !== undefined) {
      for (const { key, value } of this.db.getRange(range(prefix))) {
        const part = isPointer(key, prefix) ? parsePointer(value) : value;
        parts.push(part);
        total += part.length;
      }
    }
    for (const part of [logged, after]) {
      if (part === undefined || part.length === 0) continue;
      parts.push(part);
      total += part.length;
    }
    if (total === 0) return new Uint8Array(0);
    if (parts.length === 1 && parts[0] instanceof Uint8Array && parts[0] !== after) return parts[0]; // the caller's own
    const out = Buffer.allocUnsafe(total);
    let at = 0;
    for (const part of parts) {
      if (part instanceof Uint8Array) out.set(part, at);
      else files.read(part, out, at);
      at += part.length;
    }
    return out;
  }

  /**
   * Opens in `files` every value file an id's chunks point into, so the caller can keep them
   * readable; returns the id's key prefix (undefined: the id has no chunks).
   */
  openFiles(id: string, files: OpenFiles): Buffer | undefined {
    const prefix = prefixOf(this.db, id, false);
    if (prefix !== undefined) {
      for (const key of this.db.getKeys(range(prefix))) if (isPointer(key, prefix)) files.open(parsePointer(this.db.get(key)!).file);
    }
    return prefix;
  }

  /** The chunks under an id's `prefix`, in append order, in pieces of at most MAX_PIECE bytes. */
  *pieces(prefix: Buffer, files: OpenFiles): Generator<Uint8Array> {
    for (const { key, value } of this.db.getRange(range(prefix))) {
      if (isPointer(key, prefix)) yield* files.pieces(parsePointer(value), MAX_PIECE);
      else yield value;
    }
  }

  /** Removes an id's chunks outside the log (inside a write transaction). */
  remove(id: string): void {
    const prefix = prefixOf(this.db, id, false);
    if (prefix === undefined) return;
    for (const key of Array.from(this.db.getKeys(range(prefix)))) {
      if (isPointer(key, prefix)) this.files.release(this.db, key, this.db.get(key)!);
      this.db.removeSync(key);
    }
  }

  /** Ids with chunks outside the log. */
  ids(): Generator<string> {
    return storedIds(this.db);
  }

  /** Takes the next append sequence number (inside a write transaction). */
  #nextSeq(): Buffer {
    const seq = Buffer.allocUnsafe(8);
    seq.writeBigUInt64BE((this.db.get(SEQ_KEY)?.readBigUInt64BE(0) ?? 0n) + 1n);
    this.db.putSync(SEQ_KEY, seq);
    return seq;
  }

  /** Puts one chunk as entries `prefix · seq · piece`, from piece number `piece` on; returns the next number. */
  #putChunk(prefix: Buffer, seq: Buffer, piece: number, value: Uint8Array): number {
    for (let off = 0; off < value.length; off += MAX_PIECE)
      this.db.putSync(chunkKey(prefix, seq, piece++), asBuffer(value.subarray(off, off + MAX_PIECE)));
    return piece;
  }
}
