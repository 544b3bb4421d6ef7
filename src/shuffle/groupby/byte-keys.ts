/**
 * Group keys as the bytes of a file, each given a dense id (0, 1, 2, …) on first sight: an
 * open-addressing table over typed arrays, so a record's key is found without making a string
 * or touching a `Map` (per record, a `Map` of fresh strings cost most of a CSV groupBy). A key
 * becomes a string once, when its group is handed over (`key`).
 */
import { grown } from '../grown.js';

/** FNV-1a's offset basis and prime: the readers hash a key as they read it (`KeyedRows.keyHash`), as `hashBytes` does. */
export const FNV_OFFSET = 0x811c9dc5;
export const FNV_PRIME = 0x01000193;

/** FNV-1a over `bytes[from, to)`, as a signed 32-bit integer. */
export function hashBytes(bytes: Uint8Array, from: number, to: number): number {
  let h = FNV_OFFSET;
  for (let i = from; i < to; i++) h = Math.imul(h ^ bytes[i]!, FNV_PRIME);
  return h | 0;
}

const EMPTY = -1;

/** Whether `bytes[from, to)` are all below 0x80. */
function isAscii(bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i]! >= 0x80) return false;
  return true;
}

/** Ints per slot: the key's hash, id, start in the arena and length (one cache line to check a key). */
const SLOT = 4;

export class ByteKeys {
  /** A power of two of slots, at most half used. */
  #slots = new Int32Array(SLOT * 1024).fill(EMPTY);
  #mask = 1023;
  #arena = new Uint8Array(1 << 14);
  #used = 0;
  /** Slot of key `id`, for `key`. */
  #slotOf = new Int32Array(512);
  #size = 0;
  /** Whether a key held has a byte of 0x80 or more. */
  #nonAscii = false;

  /** The number of keys. */
  get size(): number {
    return this.#size;
  }

  /** The id of the key `bytes[from, to)` whose `hashBytes` is `hash`, added if new. */
  id(bytes: Uint8Array, from: number, to: number, hash: number): number {
    const slots = this.#slots;
    const arena = this.#arena;
    const length = to - from;
    for (let s = hash & this.#mask; ; s = (s + 1) & this.#mask) {
      const o = SLOT * s;
      const id = slots[o + 1]!;
      if (id === EMPTY) return this.#add(bytes, from, to, hash, s);
      if (slots[o] !== hash || slots[o + 3] !== length) continue;
      const at = slots[o + 2]!;
      let i = 0;
      while (i < length && arena[at + i] === bytes[from + i]) i++;
      if (i === length) return id;
    }
  }

  /** Key `id` as a string (UTF-8; invalid bytes become U+FFFD, as when the file is decoded whole). */
  key(id: number): string {
    const o = SLOT * this.#slotOf[id]!;
    const at = this.#slots[o + 2]!;
    return Buffer.from(this.#arena.buffer, this.#arena.byteOffset + at, this.#slots[o + 3]!).toString('utf8');
  }

  /**
   * Every key as a string, by id (as `key` makes them). When every key is ASCII, the keys are
   * slices of one decoded string (a Buffer and a decode per key cost most of a drain).
   */
  keys(): string[] {
    const out = new Array<string>(this.#size);
    if (this.#nonAscii) {
      for (let id = 0; id < this.#size; id++) out[id] = this.key(id);
      return out;
    }
    const all = Buffer.from(this.#arena.buffer, this.#arena.byteOffset, this.#used).toString('latin1');
    for (let id = 0, at = 0; id < this.#size; id++) {
      const length = this.#slots[SLOT * this.#slotOf[id]! + 3]!;
      out[id] = all.slice(at, at + length); // keys are in the arena in id order
      at += length;
    }
    return out;
  }

  /**
   * `hashKey` (partitioner.ts) of key `id` when that is its `hashBytes` (an ASCII key: its bytes
   * are its UTF-16 code units), else -1.
   */
  keyHash(id: number): number {
    const o = SLOT * this.#slotOf[id]!;
    const at = this.#slots[o + 2]!;
    return this.#nonAscii && !isAscii(this.#arena, at, at + this.#slots[o + 3]!) ? -1 : this.#slots[o]! >>> 0;
  }

  /** Forgets every key (ids start again from 0). */
  clear(): void {
    this.#slots.fill(EMPTY);
    this.#size = this.#used = 0;
    this.#nonAscii = false;
  }

  #add(bytes: Uint8Array, from: number, to: number, hash: number, s: number): number {
    const id = this.#size++;
    const length = to - from;
    if (this.#used + length > this.#arena.length) this.#arena = grown(this.#arena, this.#used + length);
    const arena = this.#arena;
    for (let i = 0; i < length; i++) arena[this.#used + i] = bytes[from + i]!; // a key is short: a subarray to copy it from cost more
    if (!this.#nonAscii && !isAscii(bytes, from, to)) this.#nonAscii = true;
    if (id === this.#slotOf.length) this.#slotOf = grown(this.#slotOf, id + 1);
    this.#put(s, hash, id, this.#used, length);
    this.#used += length;
    if (2 * this.#size > this.#mask) this.#rehash();
    return id;
  }

  #put(s: number, hash: number, id: number, at: number, length: number): void {
    const o = SLOT * s;
    this.#slots[o] = hash;
    this.#slots[o + 1] = id;
    this.#slots[o + 2] = at;
    this.#slots[o + 3] = length;
    this.#slotOf[id] = s;
  }

  #rehash(): void {
    const old = this.#slots;
    this.#mask = 2 * this.#mask + 1;
    const slots = (this.#slots = new Int32Array(SLOT * (this.#mask + 1)).fill(EMPTY));
    for (let o = 0; o < old.length; o += SLOT) {
      if (old[o + 1] === EMPTY) continue;
      let s = old[o]! & this.#mask;
      while (slots[SLOT * s + 1] !== EMPTY) s = (s + 1) & this.#mask;
      this.#put(s, old[o]!, old[o + 1]!, old[o + 2]!, old[o + 3]!);
    }
  }
}
