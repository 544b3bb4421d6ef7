/**
 * What a scatter session hands the coordinator at its next commit, in a worker thread: records
 * buffered by partition and framed as the `Msgpack` layer stores them, FRAME_RECORDS at a time
 * (so they die young: every buffered record is copied by each scavenge it survives, and with
 * P partitions P × FRAME_RECORDS of them are buffered), and each partition's frames joined into
 * entries of about ENTRY_BYTES (LMDB pays per entry, not per byte).
 */
import { cannotStore, Msgpack } from '../../layers/values.js';
import { packColumns } from '../../layers/columns.js';
import { FRAME_HEADER, frameHeader } from '../../layers/frames.js';
import { keyId } from '../../keys.js';
import { Dict } from '../../stores/dict.js';

const FRAME_RECORDS = 128;
const ENTRY_BYTES = 256 << 10;

/**
 * Frames values as the `Msgpack` layer stores them; it never appends (the coordinator writes).
 * A session opens no store at all: a worker terminated (on an abort) while lmdb-js was
 * opening one aborted the whole process ("napi_throw" during termination).
 */
export const framer = new Msgpack(new Dict());

/** A frame of records as the Msgpack layer reads them: as columns when they are records of one shape (layers/columns.ts). */
export function recordFrame(records: readonly unknown[]): Uint8Array {
  const out = packColumns(records, FRAME_HEADER);
  if (out === undefined) return framer.frameOf(records);
  frameHeader(out, out.length - FRAME_HEADER);
  return out;
}

/** How a partition's buffered records become one frame: alone, or (a sort's) with their ordinals and keys. */
export type Framing = (records: unknown[], ords: number[], keys: unknown[]) => Uint8Array;

export class Outbox {
  /** Records by partition, with their ordinals (to name one that cannot be stored). */
  readonly #records: unknown[][];
  readonly #ords: number[][];
  /** Their keys, when the framing takes them. */
  readonly #keys: unknown[][] | undefined;
  /** Frames of each partition not yet joined into an entry. */
  readonly #frames: (Uint8Array[] | undefined)[];
  readonly #frameBytes: Float64Array;
  #entries: [string, Uint8Array][] = [];
  #buffered = 0;
  #bytes = 0;

  /**
   * `unstorable`: called per record MessagePack cannot store (it may throw), which is then left
   * out; `framing`, when given, frames the records with their ordinals and keys (which `push`
   * is then given), else the records go alone.
   */
  constructor(
    partitions: number,
    readonly unstorable: (ord: number, why: string) => void,
    readonly framing?: Framing,
  ) {
    this.#records = Array.from({ length: partitions }, () => []);
    this.#ords = Array.from({ length: partitions }, () => []);
    this.#keys = framing ? Array.from({ length: partitions }, () => []) : undefined;
    this.#frames = new Array<undefined>(partitions).fill(undefined);
    this.#frameBytes = new Float64Array(partitions);
  }

  /** Records buffered, not yet framed. */
  get buffered(): number {
    return this.#buffered;
  }

  /** Bytes framed. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Buffers a record of partition `p` (with its key, for a keyed framing). */
  push(p: number, record: unknown, ord: number, key?: unknown): void {
    const records = this.#records[p]!;
    records.push(record);
    this.#ords[p]!.push(ord);
    this.#keys?.[p]!.push(key);
    this.#buffered++;
    if (records.length >= FRAME_RECORDS) this.#framePartition(p);
  }

  /** Frames every buffered record. */
  frameAll(): void {
    for (let p = 0; p < this.#records.length; p++) if (this.#records[p]!.length > 0) this.#framePartition(p);
  }

  /** Adds a frame (`framer.frameOf(…)`) to partition `p`. */
  add(p: number, frame: Uint8Array): void {
    (this.#frames[p] ??= []).push(frame);
    this.#frameBytes[p]! += frame.length;
    this.#bytes += frame.length;
    if (this.#frameBytes[p]! >= ENTRY_BYTES) this.#join(p);
  }

  /** The entries to commit (every record framed) and their bytes, and an empty outbox. */
  take(): { entries: [string, Uint8Array][]; bytes: number } {
    this.frameAll();
    for (let p = 0; p < this.#frames.length; p++) this.#join(p);
    const taken = { entries: this.#entries, bytes: this.#bytes };
    this.#entries = [];
    this.#bytes = 0;
    return taken;
  }

  #framePartition(p: number): void {
    const records = this.#records[p]!;
    this.#buffered -= records.length;
    const frame = this.#frame(records, this.#ords[p]!, this.#keys?.[p] ?? []);
    if (frame) this.add(p, frame);
    this.#records[p] = [];
    this.#ords[p] = [];
    if (this.#keys) this.#keys[p] = [];
  }

  /** Joins partition `p`'s frames into one entry. */
  #join(p: number): void {
    const frames = this.#frames[p];
    if (!frames) return;
    this.#entries.push([keyId(p), frames.length === 1 ? frames[0]! : Buffer.concat(frames, this.#frameBytes[p]!)]);
    this.#frames[p] = undefined;
    this.#frameBytes[p] = 0;
  }

  /**
   * A frame of the records MessagePack can store (a symbol, a BigInt past 64 bits or a cycle
   * made in user code cannot be). They are tried one by one only once the whole frame has failed.
   */
  #frame(records: unknown[], ords: number[], keys: unknown[]): Uint8Array | undefined {
    try {
      return this.framing ? this.framing(records, ords, keys) : recordFrame(records);
    } catch {
      const storable = records.flatMap((v, i) => {
        const why = cannotStore(v);
        if (why === undefined) return [i];
        this.unstorable(ords[i]!, why);
        return [];
      });
      const pick = <T>(values: T[]) => storable.map((i) => values[i]!);
      if (storable.length === 0) return undefined;
      return this.framing ? this.framing(pick(records), pick(ords), pick(keys)) : recordFrame(pick(records));
    }
  }
}
