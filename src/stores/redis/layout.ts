/**
 * The `Redis` store's key names. Runs in any thread.
 *
 * A store named N keeps each key id's bytes in a Redis list `partd:N:d:<id>` (one element per
 * appended segment), or `partd:{N}:d:<id>` with a hash tag, which puts every key of the store in
 * the slot of N. Names hold no `{ } * ? [ ] \` (options.ts refuses them), so the tag is the
 * store's alone, and the SCAN pattern needs no escaping but of the id part, which it never has.
 */

/** The key names of one store. */
export class Layout {
  /** Every key of the store starts with it (drop and the exit cleanup remove `base*`). */
  readonly base: string;
  /** The SCAN pattern of every key of the store. */
  readonly all: string;
  /** The SCAN pattern of the data keys. */
  readonly data: string;
  readonly #dataPrefix: string;

  constructor(name: string, hashTag: boolean) {
    this.base = hashTag ? `partd:{${name}}:` : `partd:${name}:`;
    this.#dataPrefix = `${this.base}d:`;
    this.all = `${this.base}*`;
    this.data = `${this.#dataPrefix}*`;
  }

  /** The Redis key of a key id. */
  key(id: string): string {
    return this.#dataPrefix + id;
  }

  /** The key id of a Redis data key, or undefined for another key. */
  id(key: string): string | undefined {
    return key.startsWith(this.#dataPrefix) ? key.slice(this.#dataPrefix.length) : undefined;
  }
}
