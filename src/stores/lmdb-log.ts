/**
 * The write log of the `Lmdb` store: small appends go in as ONE entry per append call, and
 * are later compacted into per-key chunks.
 *
 * Why: LMDB pays per entry, not per byte. An append of 1000 keys × 100 bytes written as 1000
 * entries dirties ~1000 B-tree leaf pages (about 8 µs an entry); the same call as one 100 kB
 * log entry costs about as much as one entry. Compaction then writes one chunk per key for
 * thousands of append calls at once, so each key gets an entry per compaction, not per append.
 *
 * A log entry's value is a list of records `u32 idBytes · id (UTF-8) · u32 valueBytes · value`.
 */
/** Log entries live under `0x00 0x6c · seq`; data keys never start with 0x00. */
export const LOG_START = Buffer.from([0, 0x6c]);
/** Just past the log's key range. */
export const LOG_END = Buffer.from([0, 0x6d]);
/** `u64 bytes · u32 entries` of the uncompacted log; absent when it is empty. */
export const LOG_STATS_KEY = Buffer.from([0, 0x6b]);

/** Compact once the log holds this many bytes… */
const LOG_MAX_BYTES = 16 << 20;
/** …or this many append calls (bounds the work a read may have to do first). */
const LOG_MAX_ENTRIES = 4096;
/** Calls whose values average this size or more are written directly: big entries are cheap. */
const DIRECT_MIN_AVERAGE = 4096;

/** Whether an append call of these `[id, value]` records should go through the log. */
export function belongsInLog(records: readonly (readonly [string, Uint8Array])[]): boolean {
  let total = 0;
  for (const [, value] of records) total += value.length;
  return total < LOG_MAX_BYTES && total < DIRECT_MIN_AVERAGE * records.length;
}

/**
 * The log's stats (`stored`: the value under `LOG_STATS_KEY`, undefined for an empty log)
 * after adding an entry of `bytes`, and whether it is now time to compact.
 */
export function grownStats(stored: Buffer | undefined, bytes: number): { value: Buffer; full: boolean } {
  const total = (stored === undefined ? 0 : Number(stored.readBigUInt64BE(0))) + bytes;
  const entries = (stored === undefined ? 0 : stored.readUInt32BE(8)) + 1;
  const value = Buffer.allocUnsafe(12);
  value.writeBigUInt64BE(BigInt(total), 0);
  value.writeUInt32BE(entries, 8);
  return { value, full: total >= LOG_MAX_BYTES || entries >= LOG_MAX_ENTRIES };
}

/** Packs `[id, value]` records (ids as UTF-8 strings) into one log entry value. */
export function packRecords(records: readonly (readonly [string, Uint8Array])[]): Buffer {
  let size = 0;
  for (const [id, value] of records) size += 8 + Buffer.byteLength(id, 'utf8') + value.length;
  const out = Buffer.allocUnsafe(size);
  let off = 0;
  for (const [id, value] of records) {
    const n = out.write(id, off + 4, 'utf8');
    out.writeUInt32BE(n, off);
    off += 4 + n;
    out.writeUInt32BE(value.length, off);
    out.set(value, off + 4);
    off += 4 + value.length;
  }
  return out;
}

/** The log's records grouped by id, each id's values concatenated in log order. */
export class Compaction {
  readonly #entries: Buffer[] = [];
  /** Per id: `[entry index, start, end]` triples and the total byte count (no per-record allocation). */
  readonly #spans = new Map<string, { at: number[]; bytes: number }>();

  /** Adds the records of one log entry (entries must come in key order). */
  add(entry: Buffer): void {
    const index = this.#entries.push(entry) - 1;
    for (let off = 0; off < entry.length; ) {
      const idBytes = entry.readUInt32BE(off);
      const id = entry.toString('utf8', off + 4, off + 4 + idBytes);
      off += 4 + idBytes;
      const start = off + 4;
      const end = start + entry.readUInt32BE(off);
      off = end;
      if (end === start) continue; // an empty value adds nothing (a key exists only while it holds bytes)
      const spans = this.#spans.get(id);
      if (spans === undefined) this.#spans.set(id, { at: [index, start, end], bytes: end - start });
      else {
        spans.at.push(index, start, end);
        spans.bytes += end - start;
      }
    }
  }

  /** The ids in the log. */
  ids(): IterableIterator<string> {
    return this.#spans.keys();
  }

  /** All logged bytes of `id` as one chunk (undefined if it has none). */
  chunk(id: string): Uint8Array | undefined {
    const spans = this.#spans.get(id);
    if (spans === undefined) return undefined;
    const { at, bytes } = spans;
    const chunk = Buffer.allocUnsafe(bytes);
    let off = 0;
    for (let i = 0; i < at.length; i += 3) off += this.#entries[at[i]!]!.copy(chunk, off, at[i + 1], at[i + 2]);
    return chunk;
  }
}
