/**
 * The partd interface, shared by every store and every encoding layer.
 *
 * `Partd` does the argument work once — key validation, the shapes `append` accepts,
 * nested `get`, `iset`'s seen-set, the closed state — and hands canonical key ids to a
 * small set of protected hooks (`appendIds`, `getIds`, …) that each store or layer implements.
 * A store or layer that wraps another calls that one's hooks through `hooksOf`.
 */
import { ClosedError, describe } from './errors.js';
import { flattenKeys, isMetaId, keyFromId, keyId, unflatten, type Key, type KeyList, type Keys } from './keys.js';

/** What `append` takes: a plain object, a `Map`, or `[key, value]` pairs. */
export type AppendData<V> = { readonly [key: string]: V } | ReadonlyMap<Key, V> | Iterable<readonly [Key, V]>;

/** Values nested like the key lists that produced them. */
export type Nested<T> = Array<T | Nested<T>>;

/** A pair of a key id and a value, as the primitives take them. */
export type Entry<V> = readonly [id: string, value: V];

/**
 * A store's hooks as a store or layer that wraps it calls them (see `hooksOf`). `closeStore` is
 * not one: a wrapper closes what it wraps with `close()`.
 */
export interface Hooks<In, Out> {
  appendIds(entries: readonly Entry<In>[]): Promise<void>;
  getIds(ids: readonly string[]): Promise<Out[]>;
  setId(id: string, value: In): Promise<void>;
  deleteIds(ids: readonly string[]): Promise<void>;
  dropAll(): Promise<void>;
  iterateId(id: string): AsyncIterable<Out>;
  listIds(): AsyncIterable<string>;
  popIds(ids: readonly string[]): Promise<Out[]>;
  viewIds(ids: readonly string[]): Promise<Out[]>;
  getIdsWith(this: Hooks<In, Uint8Array>, ids: readonly string[], after: readonly Uint8Array[]): Promise<Uint8Array[]>;
  popChunkIds(ids: readonly string[]): Promise<Out[][]>;
}

/**
 * The hooks of `store`, each of which first checks that `store` is open (`ClosedError` naming
 * the hook): the one way code that wraps a store reaches them, so no call skips the closed
 * check. Internal (not exported by `partd` nor `partd/extend`); a layer uses `Layer.innerHooks`.
 */
export let hooksOf: <In, Out>(store: Partd<In, Out>) => Hooks<In, Out>;

/**
 * An appendable key→value store. `In` is what `append` takes per key, `Out` what `get`
 * returns (both `Uint8Array` for raw stores).
 */
export abstract class Partd<In = Uint8Array, Out = In> implements AsyncDisposable {
  #closed = false;
  readonly #isetSeen = new Set<string>();

  /** True once `close()` was called (on this store or on one it wraps). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Appends each value to what its key holds; all keys of one call land, or none do. */
  async append(data: AppendData<In>): Promise<void> {
    this.assertOpen('append');
    const entries = this.#entries(data);
    if (entries.length > 0) await this.appendIds(entries);
  }

  /** The value of one key (empty for a missing key), or values for a (nested) key list. */
  get(key: Key): Promise<Out>;
  get(keys: readonly Key[]): Promise<Out[]>;
  get(keys: KeyList): Promise<Nested<Out>>;
  async get(keys: Keys): Promise<Out | Nested<Out>> {
    return this.#read('get', keys, (ids) => this.getIds(ids));
  }

  /** Like `get`, and deletes the keys in the same step. */
  pop(key: Key): Promise<Out>;
  pop(keys: readonly Key[]): Promise<Out[]>;
  pop(keys: KeyList): Promise<Nested<Out>>;
  async pop(keys: Keys): Promise<Out | Nested<Out>> {
    return this.#read('pop', keys, (ids) => {
      for (const id of ids) this.#isetSeen.delete(id);
      return this.popIds(ids);
    });
  }

  /**
   * Idempotent set: the first call for a key on this instance writes, later calls do nothing
   * (until a `delete`, `pop` or `drop` of it). Calls count in the order they are made, awaited or
   * not; a call that fails does not count.
   */
  async iset(key: Key, value: In): Promise<void> {
    this.assertOpen('iset');
    const id = keyId(key, 'key');
    const checked = this.checkValue(value, 'value');
    if (this.#isetSeen.has(id)) return;
    this.#isetSeen.add(id); // now, not once written: a second call made meanwhile must do nothing
    try {
      await this.setId(id, checked);
    } catch (e) {
      this.#isetSeen.delete(id);
      throw e;
    }
  }

  /** Deletes keys; missing keys are fine. */
  async delete(keys: Keys): Promise<void> {
    this.assertOpen('delete');
    const ids: string[] = [];
    flattenKeys(keys, ids);
    for (const id of ids) this.#isetSeen.delete(id); // in call order, like iset's
    if (ids.length > 0) await this.deleteIds(ids);
  }

  /** Empties the store; it stays usable. */
  async drop(): Promise<void> {
    this.assertOpen('drop');
    this.#isetSeen.clear();
    await this.dropAll();
  }

  /** Releases the store; later calls reject with `ClosedError`. Closing twice is fine. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.closeStore();
  }

  /** Same as `close()`, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** The key's appended values one by one, in append order, without loading the whole value. */
  async *iterate(key: Key): AsyncGenerator<Out> {
    this.assertOpen('iterate');
    yield* this.iterateId(keyId(key, 'key'));
  }

  /** The keys present, in no particular order. */
  async *keys(): AsyncGenerator<Key> {
    this.assertOpen('keys');
    for await (const id of this.listIds()) if (!isMetaId(id)) yield keyFromId(id);
  }

  /** Throws `ClosedError` after `close()`. */
  assertOpen(method: string): void {
    if (this.closed) throw new ClosedError(method);
  }

  // ---- The implementer's interface: keys arrive as canonical ids (see keys.ts). ----

  /** `append`'s validation of `data`, for stores that add append variants. */
  protected entriesOf(data: AppendData<In>): Entry<In>[] {
    return this.#entries(data);
  }

  /** Validates (and may normalise) one value for `append`/`iset`; throws naming `arg`. */
  protected abstract checkValue(value: unknown, arg: string): In;
  /** Appends all entries as one atomic step. */
  protected abstract appendIds(entries: readonly Entry<In>[]): Promise<void>;
  /** Values of the ids, in order; empty values for missing ids. */
  protected abstract getIds(ids: readonly string[]): Promise<Out[]>;
  /** Replaces the value of one id. */
  protected abstract setId(id: string, value: In): Promise<void>;
  /** Deletes ids; missing ones are fine. */
  protected abstract deleteIds(ids: readonly string[]): Promise<void>;
  /** Deletes everything. */
  protected abstract dropAll(): Promise<void>;
  /** Releases resources (and wrapped stores, through their `close()`). */
  protected abstract closeStore(): Promise<void>;
  /** The appended values of one id, in append order. */
  protected abstract iterateId(id: string): AsyncIterable<Out>;
  /** Ids present, metadata ids included. */
  protected abstract listIds(): AsyncIterable<string>;
  /** Get and delete; stores that can do it in one transaction override this. */
  protected async popIds(ids: readonly string[]): Promise<Out[]> {
    const values = await this.getIds(ids);
    await this.deleteIds(ids);
    return values;
  }

  /**
   * The values of ids as views to read at once and not keep: no copy where the store can avoid
   * one (`Spill` copies its fast store's values straight on); by default `getIds`.
   */
  protected async viewIds(ids: readonly string[]): Promise<Out[]> {
    return this.getIds(ids);
  }

  /**
   * The values of ids (of a store whose values are bytes), each followed by a copy of
   * `after[i]`, in one buffer per id (how `Spill` joins its slow and fast parts). A store that
   * reads into a buffer of its own overrides it to make that buffer once, at the full size: on
   * gigabytes, joining after the read cost more than the read (the copy, and the page faults of
   * a second fresh buffer).
   */
  protected async getIdsWith(this: Partd<In, Uint8Array>, ids: readonly string[], after: readonly Uint8Array[]): Promise<Uint8Array[]> {
    return (await this.getIds(ids)).map((value, i) => joinCopy(value, after[i]!));
  }

  /**
   * `popIds`, each id's value as the chunks it was appended in, when the store keeps them apart
   * (`Dict` does: no copy to join them); by default one chunk per id.
   */
  protected async popChunkIds(ids: readonly string[]): Promise<Out[][]> {
    return (await this.popIds(ids)).map((v) => [v]);
  }

  static {
    // Inside the class body, the one place another store's protected hooks can be reached.
    hooksOf = <I, O>(store: Partd<I, O>): Hooks<I, O> => {
      // A closed store fails the way the hook itself fails: a rejected promise, or an iteration
      // that throws when it starts (a generator's body runs then).
      const call =
        <A extends unknown[], R>(name: keyof Hooks<I, O>, hook: (...args: A) => Promise<R>) =>
        async (...args: A): Promise<R> => {
          store.assertOpen(name);
          return hook.apply(store, args);
        };
      const iterable =
        <A extends unknown[], R>(name: keyof Hooks<I, O>, hook: (...args: A) => AsyncIterable<R>) =>
        (...args: A): AsyncIterable<R> => ({
          [Symbol.asyncIterator]: () => {
            store.assertOpen(name);
            return hook.apply(store, args)[Symbol.asyncIterator]();
          },
        });
      return {
        appendIds: call('appendIds', store.appendIds),
        getIds: call('getIds', store.getIds),
        setId: call('setId', store.setId),
        deleteIds: call('deleteIds', store.deleteIds),
        dropAll: call('dropAll', store.dropAll),
        iterateId: iterable('iterateId', store.iterateId),
        listIds: iterable('listIds', store.listIds),
        popIds: call('popIds', store.popIds),
        viewIds: call('viewIds', store.viewIds),
        getIdsWith: call('getIdsWith', store.getIdsWith),
        popChunkIds: call('popChunkIds', store.popChunkIds),
      };
    };
  }

  async #read(method: string, keys: Keys, read: (ids: string[]) => Promise<Out[]>): Promise<Out | Nested<Out>> {
    this.assertOpen(method);
    if (!Array.isArray(keys)) return (await read([keyId(keys, 'key')]))[0]!;
    const ids: string[] = [];
    const shape = flattenKeys(keys, ids);
    return unflatten(shape, await read(ids)) as Nested<Out>;
  }

  /** Validates `data` into entries. The first pass names nothing (the hot path builds no
   * strings); if it throws, a second pass over the same input throws the error that names the argument. */
  #entries(data: AppendData<In>): Entry<In>[] {
    const input: unknown = data instanceof Map || Array.isArray(data) || isPlainObject(data) ? data : materialize(data);
    try {
      return this.#collect(input, false);
    } catch {
      return this.#collect(input, true);
    }
  }

  #collect(data: unknown, named: boolean): Entry<In>[] {
    if (!named && isPlainObject(data)) {
      // The hot path (W1 appends 1000 keys a call): one pre-sized array, no closure per key.
      // Not Object.entries: 3× faster on an object with fast properties, but 3× slower on one in
      // dictionary mode, which is what an object built by assigning many keys usually is.
      const keys = Object.keys(data);
      const values = data as Record<string, unknown>;
      const out = new Array<Entry<In>>(keys.length);
      for (let i = 0; i < keys.length; i++) out[i] = [keyId(keys[i]), this.checkValue(values[keys[i]!], '')];
      return out;
    }
    const entries: Entry<In>[] = [];
    const add = (key: unknown, value: unknown, arg: string) => {
      entries.push(named ? [keyId(key, `${arg} key`), this.checkValue(value, `${arg} value`)] : [keyId(key), this.checkValue(value, '')]);
    };
    if (data instanceof Map) {
      for (const [k, v] of data) add(k, v, named ? `data entry ${describeKey(k)}` : '');
    } else if (isPlainObject(data)) {
      for (const k of Object.keys(data)) add(k, (data as Record<string, unknown>)[k], named ? `data[${JSON.stringify(k)}]` : '');
    } else {
      (data as unknown[]).forEach((pair, i) => {
        if (!Array.isArray(pair) || pair.length !== 2)
          throw new TypeError(`data[${i}]: expected a [key, value] pair, got ${describe(pair)}`);
        add(pair[0], pair[1], named ? `data[${i}]` : '');
      });
    }
    return entries;
  }
}

/** An iterable of pairs as an array (so it can be read twice); anything else is refused. */
function materialize(data: unknown): unknown[] {
  if (
    data != null &&
    typeof data === 'object' &&
    typeof (data as Iterable<unknown>)[Symbol.iterator] === 'function' &&
    !ArrayBuffer.isView(data)
  ) {
    return Array.from(data as Iterable<unknown>);
  }
  throw new TypeError(`data: append takes a plain object, a Map or [key, value] pairs, got ${describe(data)}`);
}

function isPlainObject(x: unknown): x is object {
  if (x === null || typeof x !== 'object') return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

function describeKey(k: unknown): string {
  try {
    return keyFromId(keyId(k)).toString();
  } catch {
    return describe(k);
  }
}

/** Checks a raw store's value: any `Uint8Array` (a Node `Buffer` is one). */
export function checkBytes(value: unknown, arg: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  throw new TypeError(`${arg}: a raw store takes Uint8Array values, got ${describe(value)}`);
}

/** The same bytes as a Node Buffer (no copy). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Concatenates byte chunks (no copy for a single chunk). */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  return Buffer.concat(chunks);
}

/** `value` followed by a copy of `after`, in a new buffer (`value` itself when `after` is empty). */
function joinCopy(value: Uint8Array, after: Uint8Array): Uint8Array {
  if (after.length === 0) return value;
  const out = Buffer.allocUnsafe(value.length + after.length);
  out.set(value, 0);
  out.set(after, value.length);
  return out;
}

/** Base of raw stores: values are bytes. */
export abstract class RawStore extends Partd<Uint8Array, Uint8Array> {
  protected checkValue(value: unknown, arg: string): Uint8Array {
    return checkBytes(value, arg);
  }
}
