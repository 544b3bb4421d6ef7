/**
 * The key layout of an `Lmdb` store: an id's chunks are `id · 0x00 · seq · piece` (seq counts
 * append calls, piece the chunks within one), so a key's bytes are one range read in append
 * order; a value file's pointer has one more byte. Ids too long for an LMDB key go by a hash,
 * with the full id kept under `0x00 'n' · hash`. Keys starting with 0x00 are the store's own.
 */
import { createHash } from 'node:crypto';
import type { Database } from 'lmdb';

type Db = Database<Buffer, Buffer>;

/** Ids longer than this (UTF-8 bytes) are stored under a hash; LMDB keys are at most 1978 bytes. */
const MAX_ID_BYTES = 1024;
const NAME_PREFIX = Buffer.from([0, 0x6e]); // hashed id → full id

/** The key prefix of an id (`id · 0x00`); long ids go by their hash, registered when writing. */
export function prefixOf(db: Db, id: string, writing: true): Buffer;
export function prefixOf(db: Db, id: string, writing: false): Buffer | undefined;
export function prefixOf(db: Db, id: string, writing: boolean): Buffer | undefined {
  const bytes = Buffer.from(id, 'utf8');
  if (bytes.length <= MAX_ID_BYTES) return Buffer.concat([bytes, Buffer.from([0])]);
  const short = Buffer.from(`~#${createHash('sha256').update(bytes).digest('hex')}`);
  const nameKey = Buffer.concat([NAME_PREFIX, short]);
  if (writing) db.putSync(nameKey, bytes);
  else if (db.get(nameKey) === undefined) return undefined;
  return Buffer.concat([short, Buffer.from([0])]);
}

/** Ids with chunks in place (not those only in the write log). */
export function* storedIds(db: Db): Generator<string> {
  let start: Buffer = Buffer.from([1]);
  for (;;) {
    let first: Buffer | undefined;
    for (const key of db.getKeys({ start, limit: 1 })) first = key;
    if (first === undefined) return;
    const end = first.indexOf(0);
    const prefix = first.subarray(0, end);
    const short = prefix.toString('utf8');
    yield short.startsWith('~#') ? db.get(Buffer.concat([NAME_PREFIX, prefix]))!.toString('utf8') : short;
    start = Buffer.concat([prefix, Buffer.from([1])]); // skip the rest of this id's chunks
  }
}

/** A chunk's key: `prefix · seq · piece`; a value file's pointer has one more byte (`POINTER_MARK`). */
export function chunkKey(prefix: Buffer, seq: Buffer, piece: number): Buffer {
  const key = Buffer.allocUnsafe(prefix.length + 12);
  prefix.copy(key, 0);
  seq.copy(key, prefix.length);
  key.writeUInt32BE(piece, prefix.length + 8);
  return key;
}

export const POINTER_MARK = Buffer.from([1]);
export const isPointer = (key: Buffer, prefix: Buffer) => key.length === prefix.length + 13;

/** The range of an id's chunks. */
export function range(prefix: Buffer): { start: Buffer; end: Buffer } {
  const end = Buffer.from(prefix);
  end[end.length - 1] = 1;
  return { start: prefix, end };
}
