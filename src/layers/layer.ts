/** The base of encoding layers: a store that wraps another and keeps its interface. */
import { Partd } from '../partd.js';

/** A layer over a raw (bytes) store; key-level operations pass straight through. */
export abstract class Layer<In, Out> extends Partd<In, Out> {
  /** @param inner the store this layer writes to; closing the layer closes it. */
  constructor(readonly inner: Partd<Uint8Array, Uint8Array>) {
    super();
    if (!(inner instanceof Partd)) throw new TypeError('inner: expected a partd store to wrap');
  }

  override get closed(): boolean {
    return super.closed || this.inner.closed;
  }

  async deleteIds(ids: readonly string[]): Promise<void> {
    await this.inner.deleteIds(ids);
  }

  async dropAll(): Promise<void> {
    await this.inner.dropAll();
  }

  async closeStore(): Promise<void> {
    await this.inner.close();
  }

  listIds(): AsyncIterable<string> {
    return this.inner.listIds();
  }
}
