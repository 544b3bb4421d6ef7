/** The base of encoding layers: a store that wraps another and keeps its interface. */
import { Partd, hooksOf, type Hooks } from '../partd.js';

/** A layer over a raw (bytes) store; key-level operations pass straight through. */
export abstract class Layer<In, Out> extends Partd<In, Out> {
  /**
   * The inner store's hooks, for this layer's own: each call first checks that the inner store
   * is open. Keys and values were validated by this layer's public method already.
   */
  protected readonly innerHooks: Hooks<Uint8Array, Uint8Array>;

  /** @param inner the store this layer writes to; closing the layer closes it. */
  constructor(readonly inner: Partd<Uint8Array, Uint8Array>) {
    super();
    if (!(inner instanceof Partd)) throw new TypeError('inner: expected a partd store to wrap');
    this.innerHooks = hooksOf(inner);
  }

  override get closed(): boolean {
    return super.closed || this.inner.closed;
  }

  protected async deleteIds(ids: readonly string[]): Promise<void> {
    await this.innerHooks.deleteIds(ids);
  }

  protected async dropAll(): Promise<void> {
    await this.innerHooks.dropAll();
  }

  protected async closeStore(): Promise<void> {
    await this.inner.close();
  }

  protected listIds(): AsyncIterable<string> {
    return this.innerHooks.listIds();
  }
}
