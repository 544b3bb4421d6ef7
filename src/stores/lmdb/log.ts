/**
 * The write log of the `Lmdb` store: small appends go in as ONE entry per append call, and
 * are later compacted into per-key chunks.
 *
 * Why: LMDB pays per entry, not per byte. An append of 1000 keys × 100 bytes written as 1000
 * entries dirties ~1000 B-tree leaf pages (about 8 µs an entry); the same call as one 100 kB
 * log entry costs about as much as one entry. Compaction then writes one chunk per key for
 * thousands of append calls at once, so each key gets an entry per compaction, not per append.
 *
 * A log entry's value is columnar, so that packing and reading it costs a few native calls
 * per entry rather than per record, and a run of calls over the same keys (a shuffle's
 * partitions, W1's rounds) decodes its ids once:
 * `u32 count · u32 idBytes · count × u32 idLength (UTF-16 units) · count × u32 valueBytes · ids (UTF-8, concatenated) · values (concatenated)`,
 * integers little-endian.
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

type Records = readonly (readonly [string, Uint8Array])[];

/** Whether an append call of these `[id, value]` records should go through the log. */
export function belongsInLog(records: Records): boolean {
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

/** Packs `[id, value]` records (ids as strings) into one log entry value. */
export function packRecords(records: Records): Buffer {
  const n = records.length;
  const ids = new Array<string>(n);
  let valueBytes = 0;
  for (let i = 0; i < n; i++) {
    const [id, value] = records[i]!;
    ids[i] = id;
    valueBytes += value.length;
  }
  const joined = ids.join('');
  const idBytes = Buffer.byteLength(joined, 'utf8');
  const head = 8 + 8 * n;
  const out = Buffer.allocUnsafe(head + idBytes + valueBytes);
  out.writeUInt32LE(n, 0);
  out.writeUInt32LE(idBytes, 4);
  out.write(joined, head, 'utf8');
  let off = head + idBytes;
  for (let i = 0; i < n; i++) {
    const value = records[i]![1];
    out.writeUInt32LE(ids[i]!.length, 8 + 4 * i);
    out.writeUInt32LE(value.length, 8 + 4 * (n + i));
    out.set(value, off);
    off += value.length;
  }
  return out;
}

/** Where one id's logged bytes are: `[entry index, start, end]` triples, and their total. */
interface Spans {
  at: number[];
  bytes: number;
}

/** The log's records grouped by id, each id's values concatenated in log order. */
export class Compaction {
  readonly #entries: Buffer[] = [];
  readonly #spans = new Map<string, Spans>();
  /** The last entry's id lengths (with the count) and id bytes, and the spans of its records in order. */
  #last: { lengths: Buffer; ids: Buffer; slots: Spans[] } | undefined;

  /** Adds the records of one log entry (entries must come in key order). */
  add(entry: Buffer): void {
    const index = this.#entries.push(entry) - 1;
    const n = entry.readUInt32LE(0);
    const head = 8 + 8 * n;
    const idsEnd = head + entry.readUInt32LE(4);
    // The ids are the same as the last entry's when the count, the id lengths and the id bytes are.
    const lengths = entry.subarray(0, 8 + 4 * n);
    const ids = entry.subarray(head, idsEnd);
    const last = this.#last;
    const slots = last !== undefined && lengths.equals(last.lengths) && ids.equals(last.ids) ? last.slots : this.#slots(entry, n, ids);
    this.#last = { lengths, ids, slots };
    for (let i = 0, off = idsEnd; i < n; i++) {
      const end = off + entry.readUInt32LE(8 + 4 * (n + i));
      if (end === off) continue; // an empty value adds nothing (a key exists only while it holds bytes)
      const spans = slots[i]!;
      spans.at.push(index, off, end);
      spans.bytes += end - off;
      off = end;
    }
  }

  /** The spans of each record's id in an entry, in record order (made on first sight of an id). */
  #slots(entry: Buffer, n: number, ids: Buffer): Spans[] {
    const joined = ids.toString('utf8');
    const slots = new Array<Spans>(n);
    for (let i = 0, at = 0; i < n; i++) {
      const end = at + entry.readUInt32LE(8 + 4 * i);
      const id = joined.slice(at, end);
      at = end;
      let spans = this.#spans.get(id);
      if (spans === undefined) this.#spans.set(id, (spans = { at: [], bytes: 0 }));
      slots[i] = spans;
    }
    return slots;
  }

  /** The ids in the log (an id whose logged values are all empty has no bytes and is left out). */
  *ids(): Generator<string> {
    for (const [id, spans] of this.#spans) if (spans.bytes > 0) yield id;
  }

  /** Bytes of the largest chunk, to size a buffer for `chunk(id, into)`. */
  get largest(): number {
    let max = 0;
    for (const spans of this.#spans.values()) max = Math.max(max, spans.bytes);
    return max;
  }

  /**
   * All logged bytes of `id` as one chunk (undefined if it has none): in a new buffer, or at
   * the start of `into` (which must hold `largest` bytes; a view of it is returned).
   */
  chunk(id: string, into?: Buffer): Uint8Array | undefined {
    const spans = this.#spans.get(id);
    if (spans === undefined || spans.bytes === 0) return undefined;
    const { at, bytes } = spans;
    const chunk = into ?? Buffer.allocUnsafe(bytes);
    let off = 0;
    for (let i = 0; i < at.length; i += 3) off += this.#entries[at[i]!]!.copy(chunk, off, at[i + 1], at[i + 2]);
    return chunk.subarray(0, bytes);
  }
}
