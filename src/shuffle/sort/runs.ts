/**
 * Runs of a partition's sort, in a gather worker: entries `[key, ordinal, record]` sorted in
 * memory (`MemoryRun`), written to a run file as MessagePack frames when memory is full, read
 * back a frame at a time (`RunReader`) and merged k ways (`merge`). Keys are compared collated
 * (sort/order.ts); the files hold them as they were, so a run reads back as it was written.
 */
import fs from 'node:fs';
import { FrameReader } from '../../layers/frames.js';
import { framer } from '../scatter/outbox.js';
import { collated, compareKeys, numericWidth, type SortKey } from './order.js';
import { writeAllSync } from '../../stores/writes.js';

/** A record as the scatter tags it for a sort: its key, its ordinal (input order), the record. */
export type Entry = [key: SortKey, ord: number, record: unknown];

/** Entries a run file frame holds: small enough that a merge of many runs holds little. */
const FRAME_ENTRIES = 256;
const READ_BYTES = 256 << 10;

/**
 * A comparator of entry indexes of one run, specialised when the keys allow (numbers, tuples of
 * numbers, strings); the keys are as stored, collated here only where they hold strings.
 */
function comparator(keys: SortKey[], ords: Float64Array, dir: 1 | -1): (i: number, j: number) => number {
  const width = numericWidth(keys);
  if (width === 1) {
    const K = Float64Array.from(keys as (number | number[])[], (k) => (typeof k === 'number' ? k : k[0]!));
    return (i, j) => (K[i]! - K[j]!) * dir || ords[i]! - ords[j]!;
  }
  if (width === 2) {
    // the common tuple (a number, then a tie-breaker such as an id), without the loop over columns
    const A = Float64Array.from(keys as number[][], (k) => k[0]!);
    const B = Float64Array.from(keys as number[][], (k) => k[1]!);
    return (i, j) => (A[i]! - A[j]! || B[i]! - B[j]!) * dir || ords[i]! - ords[j]!;
  }
  if (width > 1) {
    const columns = Array.from({ length: width }, (_, c) => Float64Array.from(keys as number[][], (k) => k[c]!));
    return (i, j) => {
      for (let c = 0; c < width; c++) {
        const d = columns[c]![i]! - columns[c]![j]!;
        if (d !== 0) return d * dir;
      }
      return ords[i]! - ords[j]!;
    };
  }
  const collatedKeys = keys.map(collated);
  if (collatedKeys.every((k) => typeof k === 'string'))
    return (i, j) => {
      const a = collatedKeys[i]!;
      const b = collatedKeys[j]!;
      return a < b ? -dir : a > b ? dir : ords[i]! - ords[j]!;
    };
  return (i, j) => compareKeys(collatedKeys[i]!, collatedKeys[j]!) * dir || ords[i]! - ords[j]!;
}

/**
 * Entries gathered in memory, then sorted. With `keyOf` (a field key), the store holds
 * `[ord, record]` and the key is read again here; else `[key, ord, record]`.
 */
export class MemoryRun {
  #keys: SortKey[] = [];
  #ords: number[] = [];
  #records: unknown[] = [];
  /** Encoded bytes of the entries: what a run is measured by. */
  bytes = 0;

  constructor(readonly keyOf?: (record: unknown) => unknown) {}

  get size(): number {
    return this.#records.length;
  }

  /** Adds a frame of entries as the store holds them. */
  add(frame: unknown[], bytes: number): void {
    const keyOf = this.keyOf;
    if (keyOf)
      for (const [ord, record] of frame as [number, unknown][]) {
        this.#keys.push(keyOf(record) as SortKey);
        this.#ords.push(ord);
        this.#records.push(record);
      }
    else
      for (const [key, ord, record] of frame as Entry[]) {
        this.#keys.push(key);
        this.#ords.push(ord);
        this.#records.push(record);
      }
    this.bytes += bytes;
  }

  /** The run sorted: its records, or its entries (to spill them), in order; the run is emptied. */
  take(dir: 1 | -1): { records: () => unknown[]; entries: () => Generator<Entry> } {
    const keys = this.#keys;
    const ords = Float64Array.from(this.#ords);
    const records = this.#records;
    const order = Array.from({ length: records.length }, (_, i) => i).sort(comparator(keys, ords, dir));
    this.#keys = [];
    this.#ords = [];
    this.#records = [];
    this.bytes = 0;
    return {
      records: () => order.map((i) => records[i]),
      entries: function* () {
        for (const i of order) yield [keys[i]!, ords[i]!, records[i]];
      },
    };
  }
}

/** Writes entries in order to a run file. */
export function writeRun(file: string, entries: Iterable<Entry>): void {
  const fd = fs.openSync(file, 'w');
  try {
    let frame: Entry[] = [];
    for (const e of entries) {
      frame.push(e);
      if (frame.length === FRAME_ENTRIES) (writeAllSync(fd, [framer.frameOf(frame)]), (frame = []));
    }
    if (frame.length > 0) writeAllSync(fd, [framer.frameOf(frame)]);
  } finally {
    fs.closeSync(fd);
  }
}

/** A run file read a frame at a time: `entry` is the current entry (undefined at the end), `key` its collated key. */
export class RunReader {
  entry: Entry | undefined;
  key: SortKey = 0;
  readonly #fd: number;
  readonly #frames: FrameReader;
  readonly #buf = Buffer.allocUnsafe(READ_BYTES);
  #pending: Uint8Array[] = [];
  #batch: Entry[] = [];
  #i = 0;
  #done = false;
  #closed = false;

  constructor(readonly file: string) {
    this.#fd = fs.openSync(file, 'r');
    this.#frames = new FrameReader(file);
    this.next();
  }

  /** Moves to the next entry. */
  next(): void {
    while (this.#i >= this.#batch.length) {
      if (this.#pending.length === 0 && !this.#fill()) {
        this.entry = undefined;
        return;
      }
      this.#batch = framer.decode(this.#pending.shift()!) as Entry[];
      this.#i = 0;
    }
    this.entry = this.#batch[this.#i++]!;
    this.key = collated(this.entry[0]);
  }

  #fill(): boolean {
    while (!this.#done && this.#pending.length === 0) {
      const n = fs.readSync(this.#fd, this.#buf, 0, READ_BYTES, null);
      if (n === 0) {
        this.#done = true;
        this.#frames.end();
        this.close();
      } else this.#pending = this.#frames.push(Buffer.from(this.#buf.subarray(0, n)));
    }
    return this.#pending.length > 0;
  }

  /** Closes the file (at its end, or when a merge is given up). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    fs.closeSync(this.#fd);
  }
}

/** The entries of sorted runs, merged in order (a binary heap of the runs by their current entry). */
export function* merge(runs: RunReader[], dir: 1 | -1): Generator<Entry> {
  const before = (a: RunReader, b: RunReader) => (compareKeys(a.key, b.key) * dir || a.entry![1] - b.entry![1]) < 0;
  const heap = runs.filter((r) => r.entry !== undefined);
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && before(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && before(heap[r]!, heap[m]!)) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m]!, heap[i]!];
      i = m;
    }
  };
  for (let i = (heap.length >> 1) - 1; i >= 0; i--) down(i);
  while (heap.length > 0) {
    const top = heap[0]!;
    yield top.entry!;
    top.next();
    if (top.entry === undefined) {
      heap[0] = heap[heap.length - 1]!;
      heap.pop();
    }
    if (heap.length > 0) down(0);
  }
}
