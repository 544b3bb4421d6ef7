/** A promise queue: `run` calls execute one at a time, in call order. */
export class Mutex {
  #tail: Promise<unknown> = Promise.resolve();

  /** Runs `fn` after every earlier `run` has settled. */
  run<T>(fn: () => T | Promise<T>): Promise<T> {
    const next = this.#tail.then(fn);
    this.#tail = next.catch(() => undefined);
    return next;
  }
}

/**
 * Runs calls in call order, each at once when nothing is running: a synchronous call then
 * costs no extra turn of the event loop, and one that waits (for the threadpool, say) holds
 * back the calls made after it until it is done.
 */
export class InOrder {
  #tail: Promise<void> | undefined; // settles when the last call still running is done

  /** Runs `fn` after every earlier call has settled. */
  run<T>(fn: () => T | Promise<T>): Promise<T> {
    if (this.#tail) return this.#track(this.#tail.then(fn));
    let out: T | Promise<T>;
    try {
      out = fn();
    } catch (e) {
      return Promise.reject(e);
    }
    return out instanceof Promise ? this.#track(out) : Promise.resolve(out);
  }

  #track<T>(p: Promise<T>): Promise<T> {
    const tail = p.then(
      () => undefined,
      () => undefined,
    );
    this.#tail = tail;
    void tail.then(() => {
      if (this.#tail === tail) this.#tail = undefined;
    });
    return p;
  }
}
