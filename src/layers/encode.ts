/** `Encode`: the generic encoding layer (partd's Encode). */
import { CorruptFrameError } from '../errors.js';
import type { Entry, Partd } from '../partd.js';
import { FrameReader, frame, unframe } from './frames.js';
import { Layer } from './layer.js';

/**
 * Encodes each appended value to bytes, framed so `get` can split the concatenation back;
 * `get` returns `join` of the decoded values, `iterate` yields them one by one.
 */
export class Encode<In, Out> extends Layer<In, Out> {
  /**
   * @param encode value → bytes
   * @param decode bytes → value
   * @param join the decoded values of one key → the value `get` returns (called with `[]` for a missing key)
   * @param inner the store to write to
   */
  constructor(
    readonly encode: (value: In) => Uint8Array,
    readonly decode: (bytes: Uint8Array) => Out,
    readonly join: (values: Out[]) => Out,
    inner: Partd<Uint8Array, Uint8Array>,
  ) {
    super(inner);
    for (const [arg, fn] of [
      ['encode', encode],
      ['decode', decode],
      ['join', join],
    ] as const) {
      if (typeof fn !== 'function') throw new TypeError(`${arg}: expected a function`);
    }
  }

  /** Accepts any value `encode` accepts; subclasses narrow this. */
  protected checkValue(value: unknown, _arg: string): In {
    return value as In;
  }

  /** The exact bytes this layer appends to its inner store for `value`, for writers that batch
   * raw appends themselves (the shuffle's scatter workers). */
  frameOf(value: In): Uint8Array {
    return frame(this.encode(value));
  }

  protected async appendIds(entries: readonly Entry<In>[]): Promise<void> {
    // Encode everything before writing anything, so a value that fails to encode changes nothing.
    await this.innerHooks.appendIds(entries.map(([id, v]) => [id, this.frameOf(v)] as const));
  }

  protected async getIds(ids: readonly string[]): Promise<Out[]> {
    return (await this.innerHooks.getIds(ids)).map((bytes, i) => this.#decodeAll(bytes, ids[i]!));
  }

  protected override async popIds(ids: readonly string[]): Promise<Out[]> {
    return (await this.innerHooks.popIds(ids)).map((bytes, i) => this.#decodeAll(bytes, ids[i]!));
  }

  protected async setId(id: string, value: In): Promise<void> {
    await this.innerHooks.setId(id, this.frameOf(value));
  }

  protected async *iterateId(id: string): AsyncGenerator<Out> {
    const reader = new FrameReader(`key ${id}`);
    for await (const piece of this.innerHooks.iterateId(id)) {
      for (const payload of reader.push(piece)) yield this.#decodeOne(payload, id);
    }
    reader.end();
  }

  #decodeAll(bytes: Uint8Array, id: string): Out {
    return this.join(unframe(bytes, `key ${id}`).map((payload) => this.#decodeOne(payload, id)));
  }

  #decodeOne(payload: Uint8Array, id: string): Out {
    try {
      return this.decode(payload);
    } catch (e) {
      throw new CorruptFrameError(`key ${id}: a stored value does not decode: ${(e as Error).message}`, { cause: e });
    }
  }
}
