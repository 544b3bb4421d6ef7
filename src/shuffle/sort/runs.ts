/**
 * Runs of a partition's sort, in a gather worker: the stored blocks (sort/block.ts) sorted in
 * memory (`MemoryRun`); when memory is full, written to a run file as MessagePack frames of
 * entries `[key, ordinal, record]`, read back a frame at a time (`RunReader`) and merged k ways
 * (`merge`). Keys are compared collated (sort/order.ts); the files hold them as they were, so
 * a run reads back as it was written.
 */
import fs from 'node:fs';
import { FrameReader } from '../../layers/frames.js';
import { framer } from '../scatter/outbox.js';
import { collated, compareKeys, type SortKey } from './order.js';
import { decodeRecords, keysOf, type Block } from './block.js';
import { radixOrder } from './radix.js';
import { writeAllSync } from '../../stores/writes.js';

/** A record as the scatter tags it for a sort: its key, its ordinal (input order), the record. */
export type Entry = [key: SortKey, ord: number, record: unknown];

/** Entries a run file frame holds: small enough that a merge of many runs holds little. */
const FRAME_ENTRIES = 256;
const READ_BYTES = 256 << 10;

/** The keys of a run's records, in block order: numeric columns when every block has them, of one width. */
type RunKeys = { columns: Float64Array[] } | { general: SortKey[] };

function runKeys(blocks: readonly Block[]): RunKeys {
  const first = blocks[0]?.keys;
  const width = first && 'columns' in first ? first.columns.length : 0;
  if (width > 0 && blocks.every((b) => 'columns' in b.keys && b.keys.columns.length === width))
    return {
      columns: Array.from({ length: width }, (_, c) => concat(blocks.map((b) => (b.keys as { columns: Float64Array[] }).columns[c]!))),
    };
  return { general: blocks.flatMap(keysOf) };
}

function concat(parts: readonly Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), (at += p.length));
  return out;
}

/** A comparator of record indexes by general keys (collated here), ties by ordinal. */
function comparator(keys: SortKey[], ords: Float64Array, dir: 1 | -1): (i: number, j: number) => number {
  const collatedKeys = keys.map(collated);
  if (collatedKeys.every((k) => typeof k === 'string'))
    return (i, j) => {
      const a = collatedKeys[i]!;
      const b = collatedKeys[j]!;
      return a < b ? -dir : a > b ? dir : ords[i]! - ords[j]!;
    };
  return (i, j) => compareKeys(collatedKeys[i]!, collatedKeys[j]!) * dir || ords[i]! - ords[j]!;
}

/** The order of a run's records: numeric columns radix-sorted, other keys by comparison. */
function orderOf(keys: RunKeys, ords: Float64Array, dir: 1 | -1, blockStarts: number[]): Uint32Array {
  if ('columns' in keys) return radixOrder(keys.columns, ords, dir === -1, blockStarts);
  return Uint32Array.from(Array.from({ length: ords.length }, (_, i) => i).sort(comparator(keys.general, ords, dir)));
}

/** A run sorted: its blocks as they were stored, and the order of their records (indexes into the blocks' concatenation). */
export class SortedRun {
  constructor(
    readonly blocks: readonly Block[],
    readonly order: Uint32Array,
    readonly ords: Float64Array,
  ) {}

  /** The records, in order. */
  records(): unknown[] {
    const all = decodeRecords(this.blocks.map((b) => b.records));
    return Array.from(this.order, (i) => all[i]);
  }

  /** The entries, in order (to spill them). */
  *entries(): Generator<Entry> {
    const all = decodeRecords(this.blocks.map((b) => b.records));
    const keys = this.blocks.flatMap(keysOf);
    for (const i of this.order) yield [keys[i]!, this.ords[i]!, all[i]];
  }
}

/** A partition's blocks gathered in memory, then sorted (`take`). */
export class MemoryRun {
  #blocks: Block[] = [];
  #size = 0;
  /** Encoded bytes of the blocks: what a run is measured by. */
  bytes = 0;

  get size(): number {
    return this.#size;
  }

  /** Adds a block as the store holds it (`bytes`: its frame's). */
  add(block: Block, bytes: number): void {
    this.#blocks.push(block);
    this.#size += block.n;
    this.bytes += bytes;
  }

  /** The run sorted; the run is emptied. */
  take(dir: 1 | -1): SortedRun {
    const blocks = this.#blocks;
    const ords = concat(blocks.map((b) => b.ords));
    const starts: number[] = [];
    for (let at = 0, b = 0; b < blocks.length; at += blocks[b++]!.n) starts.push(at);
    const order = orderOf(runKeys(blocks), ords, dir, starts);
    this.#blocks = [];
    this.#size = 0;
    this.bytes = 0;
    return new SortedRun(blocks, order, ords);
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
