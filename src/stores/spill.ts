/** `Spill`: memory that spills to a slower store (partd's Buffer, renamed so as not to shadow Node's). */
import { describe } from '../errors.js';
import { Mutex } from '../mutex.js';
import { Dict } from './dict.js';
import { Partd, RawStore, concatBytes, hooksOf, type Entry, type Hooks } from '../partd.js';

/**
 * Which keys to move out of memory: among the larger half of the keys, the biggest ones
 * until `fraction` of all bytes is covered (at least one, at most `maxCount`).
 * Ties keep their input order (as partd's `keys_to_flush`).
 */
export function keysToFlush<K>(
  lengths: ReadonlyMap<K, number> | Readonly<Record<string, number>>,
  fraction = 0.1,
  maxCount = 100_000,
): K[] {
  const items = (lengths instanceof Map ? [...lengths] : Object.entries(lengths)) as [K, number][];
  if (items.length === 0) return [];
  const top = items
    .map((item, i) => [item, i] as const)
    .sort((x, y) => y[0][1] - x[0][1] || x[1] - y[1])
    .slice(0, Math.max(items.length >> 1, 1))
    .map(([item]) => item);
  const total = items.reduce((n, [, len]) => n + len, 0);
  let covered = 0;
  let count = 0; // bisect_right over the running sums
  for (const [, len] of top) {
    covered += len;
    if (covered > total * fraction) break;
    count++;
  }
  return top.slice(0, Math.min(maxCount, Math.max(1, count))).map(([k]) => k);
}

/** Chunks at least this large on average move to the slow store one by one, not joined. */
const PASS_CHUNKS_BYTES = 64 << 10;

/**
 * A fast store (usually `Dict`) in front of a slow one (usually `Lmdb` or `File`). When the
 * fast store holds more than `availableMemory` bytes, its largest keys move to the slow
 * store; `get` returns the slow bytes then the fast ones, which is append order.
 */
export class Spill extends RawStore {
  #memoryUsage = 0;
  /** Keeps a flush from running between the two halves of a read. */
  readonly #mutex = new Mutex();
  readonly #fast: Hooks<Uint8Array, Uint8Array>;
  readonly #slow: Hooks<Uint8Array, Uint8Array>;

  /**
   * @param fast the store appends go to first
   * @param slow the store keys spill to
   * @param availableMemory the fast store's budget in bytes (default 1e9, as partd)
   */
  constructor(
    readonly fast: Partd<Uint8Array, Uint8Array>,
    readonly slow: Partd<Uint8Array, Uint8Array>,
    readonly availableMemory = 1e9,
  ) {
    super();
    for (const [arg, store] of [
      ['fast', fast],
      ['slow', slow],
    ] as const) {
      if (!(store instanceof Partd)) throw new TypeError(`${arg}: expected a partd store`);
    }
    if (typeof availableMemory !== 'number' || !(availableMemory >= 0)) {
      throw new RangeError(
        `availableMemory: expected a number of bytes >= 0, got ${typeof availableMemory === 'number' ? availableMemory : describe(availableMemory)}`,
      );
    }
    this.#fast = hooksOf(fast);
    this.#slow = hooksOf(slow);
  }

  /** Bytes held in the fast store. */
  get memoryUsage(): number {
    return this.#memoryUsage;
  }

  override get closed(): boolean {
    return super.closed || this.fast.closed || this.slow.closed;
  }

  protected async appendIds(entries: readonly Entry<Uint8Array>[]): Promise<void> {
    await this.#mutex.run(async () => {
      await this.#fast.appendIds(entries);
      // Only the total is kept per append; the per-key sizes are asked of the fast store when a
      // flush needs them (a Map update per appended value cost W1 ~10%).
      for (let i = 0; i < entries.length; i++) this.#memoryUsage += entries[i]![1].length;
      while (this.#memoryUsage > this.availableMemory) {
        await this.#flush(keysToFlush(await this.#fastLengths(), 0.1, 20));
      }
    });
  }

  /** Moves keys (default: all) from the fast store to the slow one. */
  async flush(keys?: readonly string[]): Promise<void> {
    this.assertOpen('flush');
    await this.#mutex.run(async () => this.#flush(keys ?? (await idsOf(this.#fast))));
  }

  protected async getIds(ids: readonly string[]): Promise<Uint8Array[]> {
    return this.#mutex.run(async () => {
      // The slow store reads each value into one buffer with room for the fast part, which is
      // copied in from a view: one copy of each byte (a join after two reads copied all again).
      return this.#slow.getIdsWith(ids, await this.#fast.viewIds(ids));
    });
  }

  protected override async popIds(ids: readonly string[]): Promise<Uint8Array[]> {
    return this.#mutex.run(async () => {
      const older = await this.#slow.popIds(ids);
      const newer = await this.#fast.popIds(ids);
      for (const v of newer) this.#memoryUsage -= v.length;
      return joinPairs(older, newer);
    });
  }

  protected async setId(id: string, value: Uint8Array): Promise<void> {
    await this.#mutex.run(async () => {
      await this.#slow.deleteIds([id]);
      await this.#removeFast([id]);
      await this.#fast.setId(id, value);
      this.#memoryUsage += value.length;
    });
  }

  protected async deleteIds(ids: readonly string[]): Promise<void> {
    await this.#mutex.run(async () => {
      await this.#removeFast(ids);
      await this.#slow.deleteIds(ids);
    });
  }

  protected async dropAll(): Promise<void> {
    await this.#mutex.run(async () => {
      await this.#fast.dropAll();
      await this.#slow.dropAll();
      this.#memoryUsage = 0;
    });
  }

  protected async closeStore(): Promise<void> {
    await this.#mutex.run(async () => {
      await this.fast.close();
      await this.slow.close();
    });
  }

  protected async *iterateId(id: string): AsyncGenerator<Uint8Array> {
    // Move the key's memory part out first, so the slow store's iterator sees it all in order.
    await this.#mutex.run(() => this.#flush([id]));
    yield* this.#slow.iterateId(id);
  }

  protected async *listIds(): AsyncGenerator<string> {
    const ids = await this.#mutex.run(async () => {
      const seen = new Set<string>();
      for await (const id of this.#slow.listIds()) seen.add(id);
      for await (const id of this.#fast.listIds()) seen.add(id);
      return seen;
    });
    yield* ids;
  }

  /** Bytes per id in the fast store: `Dict` knows them; any other store's values are read. */
  async #fastLengths(): Promise<Map<string, number>> {
    if (this.fast instanceof Dict) return this.fast.byteLengths();
    const ids = await idsOf(this.#fast);
    const values = await this.#fast.getIds(ids);
    return new Map(ids.map((id, i) => [id, values[i]!.length]));
  }

  /** Deletes ids from the fast store, keeping the byte count. */
  async #removeFast(ids: readonly string[]): Promise<void> {
    for (const chunks of await this.#fast.popChunkIds(ids)) for (const c of chunks) this.#memoryUsage -= c.length;
  }

  async #flush(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const chunks = await this.#fast.popChunkIds(ids);
    const entries: Entry<Uint8Array>[] = [];
    let moved = 0;
    ids.forEach((id, i) => {
      const list = chunks[i]!.filter((c) => c.length > 0);
      const bytes = list.reduce((n, c) => n + c.length, 0);
      moved += bytes;
      // Large chunks move as they are (no copy to join them; Lmdb writes each to a value file),
      // small ones joined: slow stores pay per entry.
      if (list.length > 1 && bytes < PASS_CHUNKS_BYTES * list.length) entries.push([id, concatBytes(list)]);
      else for (const c of list) entries.push([id, c]);
    });
    if (entries.length === 0) return;
    try {
      await this.#slow.appendIds(entries);
    } catch (e) {
      await this.#fast.appendIds(entries); // put them back: nothing is lost
      throw e;
    }
    this.#memoryUsage -= moved;
  }
}

async function idsOf(store: Hooks<Uint8Array, Uint8Array>): Promise<string[]> {
  const ids: string[] = [];
  for await (const id of store.listIds()) ids.push(id);
  return ids;
}

function joinPairs(older: Uint8Array[], newer: Uint8Array[]): Uint8Array[] {
  return older.map((o, i) => (o.length === 0 ? newer[i]! : newer[i]!.length === 0 ? o : concatBytes([o, newer[i]!])));
}
