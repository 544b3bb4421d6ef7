/** `TypedArrays`: numbers through typed arrays (partd's Numpy). */
import { CorruptFrameError, DtypeMismatchError, describe } from '../errors.js';
import { Mutex } from '../mutex.js';
import type { Entry } from '../partd.js';
import { Layer } from './layer.js';

const TYPES = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
} as const;

/** The element type of a key: a typed-array constructor name. */
export type Dtype = keyof typeof TYPES;
/** Any typed array this layer stores. */
export type AnyTypedArray = InstanceType<(typeof TYPES)[Dtype]>;

/** The metadata id holding a key's element type (partd's `.dtype` sidecar). */
const dtypeId = (id: string) => `~dtype:${id}`;

/**
 * Append a typed array per key; `get` returns one typed array of the same type holding
 * all elements in append order (a `Float64Array(0)` for a missing key). The element type is
 * kept per key beside the data; appending another type to that key is a `DtypeMismatchError`.
 */
export class TypedArrays extends Layer<AnyTypedArray, AnyTypedArray> {
  readonly #dtypes = new Map<string, Dtype>();
  /** Calls take several inner steps (read the type, then write): one at a time, in call order. */
  readonly #turns = new Mutex();

  protected checkValue(value: unknown, arg: string): AnyTypedArray {
    if (ArrayBuffer.isView(value) && !(value instanceof DataView) && value.constructor.name in TYPES) return value as AnyTypedArray;
    throw new TypeError(`${arg}: TypedArrays takes a typed array per key, got ${describe(value)}`);
  }

  protected async appendIds(entries: readonly Entry<AnyTypedArray>[]): Promise<void> {
    return this.#turns.run(() => this.#append(entries));
  }

  async #append(entries: readonly Entry<AnyTypedArray>[]): Promise<void> {
    const known = await this.#knownDtypes(entries.map(([id]) => id));
    const fresh = new Map<string, Dtype>();
    for (const [id, value] of entries) {
      const dtype = value.constructor.name as Dtype;
      const had = known.get(id) ?? fresh.get(id);
      if (had === undefined) fresh.set(id, dtype);
      else if (had !== dtype) throw new DtypeMismatchError(`key ${id} holds ${had} elements; cannot append ${dtype}`);
    }
    // Data and new type records go in one inner call, so both land or neither does.
    const writes: Entry<Uint8Array>[] = [...fresh].map(([id, dtype]) => [dtypeId(id), Buffer.from(dtype)]);
    for (const [id, value] of entries) writes.push([id, bytesOf(value)]);
    await this.innerHooks.appendIds(writes);
    for (const [id, dtype] of fresh) this.#dtypes.set(id, dtype);
  }

  protected async getIds(ids: readonly string[]): Promise<AnyTypedArray[]> {
    return this.#turns.run(async () => this.#decode(ids, await this.innerHooks.getIds([...ids, ...ids.map(dtypeId)])));
  }

  protected override async popIds(ids: readonly string[]): Promise<AnyTypedArray[]> {
    return this.#turns.run(async () => {
      const values = this.#decode(ids, await this.innerHooks.popIds([...ids, ...ids.map(dtypeId)]));
      ids.forEach((id) => this.#dtypes.delete(id));
      return values;
    });
  }

  protected async setId(id: string, value: AnyTypedArray): Promise<void> {
    return this.#turns.run(async () => {
      await this.innerHooks.deleteIds([dtypeId(id)]);
      this.#dtypes.delete(id);
      await this.innerHooks.setId(id, new Uint8Array(0));
      await this.#append([[id, value]]);
    });
  }

  protected override async deleteIds(ids: readonly string[]): Promise<void> {
    return this.#turns.run(async () => {
      await this.innerHooks.deleteIds([...ids, ...ids.map(dtypeId)]);
      ids.forEach((id) => this.#dtypes.delete(id));
    });
  }

  protected override async dropAll(): Promise<void> {
    return this.#turns.run(async () => {
      await this.innerHooks.dropAll();
      this.#dtypes.clear();
    });
  }

  protected async *iterateId(id: string): AsyncGenerator<AnyTypedArray> {
    const dtype = await this.#turns.run(async () => (await this.#knownDtypes([id])).get(id));
    if (dtype === undefined) return;
    const size = TYPES[dtype].BYTES_PER_ELEMENT;
    let carry: Uint8Array = new Uint8Array(0); // a piece may end inside an element
    for await (const piece of this.innerHooks.iterateId(id)) {
      const bytes = carry.length ? Buffer.concat([carry, piece]) : piece;
      const whole = bytes.length - (bytes.length % size);
      carry = bytes.subarray(whole);
      if (whole > 0) yield view(dtype, bytes.subarray(0, whole), id);
    }
    if (carry.length) throw new CorruptFrameError(`key ${id}: ${carry.length} bytes left over, not a whole ${dtype} element`);
  }

  async #knownDtypes(ids: readonly string[]): Promise<Map<string, Dtype>> {
    const unknown = [...new Set(ids.filter((id) => !this.#dtypes.has(id)))];
    if (unknown.length > 0) {
      const stored = await this.innerHooks.getIds(unknown.map(dtypeId));
      unknown.forEach((id, i) => {
        const dtype = parseDtype(stored[i]!, id);
        if (dtype) this.#dtypes.set(id, dtype);
      });
    }
    return this.#dtypes;
  }

  #decode(ids: readonly string[], raw: Uint8Array[]): AnyTypedArray[] {
    return ids.map((id, i) => {
      const dtype = parseDtype(raw[ids.length + i]!, id) ?? 'Float64Array';
      return view(dtype, raw[i]!, id);
    });
  }
}

function parseDtype(bytes: Uint8Array, id: string): Dtype | undefined {
  if (bytes.length === 0) return undefined;
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  // Two writers racing on a new key may both record a type; the first record is the one that counts.
  const name = Object.keys(TYPES).find((t) => text.startsWith(t));
  if (name === undefined) throw new CorruptFrameError(`key ${id}: unreadable element type record ${JSON.stringify(text.slice(0, 40))}`);
  return name as Dtype;
}

function bytesOf(a: AnyTypedArray): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function view(dtype: Dtype, bytes: Uint8Array, id: string): AnyTypedArray {
  const Type = TYPES[dtype];
  const size = Type.BYTES_PER_ELEMENT;
  if (bytes.length % size !== 0) throw new CorruptFrameError(`key ${id}: ${bytes.length} bytes is not a whole number of ${dtype} elements`);
  // Typed arrays need aligned offsets; copy when the store's buffer is not aligned.
  const aligned = bytes.byteOffset % size === 0 ? bytes : new Uint8Array(bytes);
  return new Type(aligned.buffer as ArrayBuffer, aligned.byteOffset, aligned.length / size);
}
