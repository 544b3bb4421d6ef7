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
export const LOG_MAX_BYTES = 16 << 20;
/** …or this many append calls (bounds the work a read may have to do first). */
const LOG_MAX_ENTRIES = 4096;
/** Calls whose values average this size or more are written directly: big entries are cheap. */
const DIRECT_MIN_AVERAGE = 4096;

/** The log's size, as kept under `LOG_STATS_KEY`. */
export interface LogStats {
  bytes: number;
  entries: number;
}

/** Whether an append call of these values should go through the log. */
export function belongsInLog(values: readonly { readonly length: number }[]): boolean {
  let total = 0;
  for (const v of values) total += v.length;
  return total < LOG_MAX_BYTES && total < DIRECT_MIN_AVERAGE * values.length;
}

/** Decodes the stats value (undefined: empty log). */
export function readStats(value: Buffer | undefined): LogStats {
  return value === undefined ? { bytes: 0, entries: 0 } : { bytes: Number(value.readBigUInt64BE(0)), entries: value.readUInt32BE(8) };
}

/** Encodes stats after adding an entry of `bytes`; also says whether it is time to compact. */
export function grow(stats: LogStats, bytes: number): { value: Buffer; full: boolean } {
  const next = { bytes: stats.bytes + bytes, entries: stats.entries + 1 };
  const value = Buffer.allocUnsafe(12);
  value.writeBigUInt64BE(BigInt(next.bytes), 0);
  value.writeUInt32BE(next.entries, 8);
  return { value, full: next.bytes >= LOG_MAX_BYTES || next.entries >= LOG_MAX_ENTRIES };
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
      const end = off + 4 + entry.readUInt32BE(off);
      const spans = this.#spans.get(id);
      if (spans === undefined) this.#spans.set(id, { at: [index, off + 4, end], bytes: end - off - 4 });
      else {
        spans.at.push(index, off + 4, end);
        spans.bytes += end - off - 4;
      }
      off = end;
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
