/** `Dict`: an in-memory store (partd's Dict). */
import { RawStore, type Entry } from '../partd.js';

/** A key's bytes in a buffer that grows by doubling, so small appends copy once. */
interface Slot {
  buf: Uint8Array;
  len: number;
}

const EMPTY = new Uint8Array(0);

/** An in-memory store. Values are copied in and out, so callers may reuse their buffers. */
export class Dict extends RawStore {
  readonly #slots = new Map<string, Slot>();

  /** Bytes held (logical lengths, not capacity). */
  get memoryUsage(): number {
    let n = 0;
    for (const s of this.#slots.values()) n += s.len;
    return n;
  }

  async appendIds(entries: readonly Entry<Uint8Array>[]): Promise<void> {
    for (const [id, value] of entries) {
      if (value.length === 0) continue; // a key exists only while it holds bytes, in every store
      const slot = this.#slots.get(id);
      if (slot === undefined) {
        this.#slots.set(id, { buf: Uint8Array.prototype.slice.call(value), len: value.length });
        continue;
      }
      const need = slot.len + value.length;
      if (need > slot.buf.length) {
        const grown = new Uint8Array(Math.max(need, slot.buf.length * 2));
        grown.set(slot.buf.subarray(0, slot.len));
        slot.buf = grown;
      }
      slot.buf.set(value, slot.len);
      slot.len = need;
    }
  }

  async getIds(ids: readonly string[]): Promise<Uint8Array[]> {
    return ids.map((id) => this.#read(id));
  }

  override async popIds(ids: readonly string[]): Promise<Uint8Array[]> {
    return ids.map((id) => {
      const slot = this.#slots.get(id);
      this.#slots.delete(id);
      return slot ? slot.buf.subarray(0, slot.len) : EMPTY;
    });
  }

  async setId(id: string, value: Uint8Array): Promise<void> {
    this.#slots.delete(id);
    await this.appendIds([[id, value]]);
  }

  async deleteIds(ids: readonly string[]): Promise<void> {
    for (const id of ids) this.#slots.delete(id);
  }

  async dropAll(): Promise<void> {
    this.#slots.clear();
  }

  async closeStore(): Promise<void> {
    this.#slots.clear();
  }

  async *iterateId(id: string): AsyncGenerator<Uint8Array> {
    const value = this.#read(id);
    if (value.length > 0) yield value;
  }

  async *listIds(): AsyncGenerator<string> {
    yield* [...this.#slots.keys()];
  }

  #read(id: string): Uint8Array {
    const slot = this.#slots.get(id);
    return slot ? slot.buf.slice(0, slot.len) : EMPTY;
  }
}
