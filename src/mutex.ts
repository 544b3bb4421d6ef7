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

/**
 * Call order for a store whose calls are commands on ordered connections: a call that issues all
 * its commands at once (`run`) starts at once — its commands then reach the server after those
 * of earlier calls, so it needs not wait for their replies; a call of several steps (`runAlone`)
 * waits for every earlier call to settle, and holds back later calls until it has settled.
 */
export class Pipelined {
  #all: Promise<void> = Promise.resolve(); // settles when every call made so far has
  #gate: Promise<void> | undefined; // settles when the last runAlone call has

  /** Runs `fn` now, or after the last `runAlone` call still running. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    return this.#track(this.#gate ? this.#gate.then(fn) : call(fn));
  }

  /** Runs `fn` after every earlier call has settled; later calls wait for it. */
  runAlone<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.#all.then(fn);
    const gate = settled(p);
    this.#gate = gate;
    void gate.then(() => {
      if (this.#gate === gate) this.#gate = undefined;
    });
    return this.#track(p);
  }

  #track<T>(p: Promise<T>): Promise<T> {
    this.#all = Promise.all([this.#all, settled(p)]).then(() => undefined);
    return p;
  }
}

function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return fn();
  } catch (e) {
    return Promise.reject(e);
  }
}

function settled(p: Promise<unknown>): Promise<void> {
  return p.then(
    () => undefined,
    () => undefined,
  );
}
