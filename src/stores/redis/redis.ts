/** `Redis`: a store on a Redis server or a Redis Cluster (ioredis). Runs in any thread. */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pipelined } from '../../mutex.js';
import { asBuffer, RawStore, type Entry } from '../../partd.js';
import { Connection } from './connection.js';
import { removeAtExit } from './exit-cleanup.js';
import { isLost, storeError, type FailureContext } from './failures.js';
import { Layout } from './layout.js';
import {
  checkServer,
  describeServer,
  redisSettings,
  secretsOf,
  type RedisServer,
  type RedisSettings,
  type RedisStoreOptions,
} from './options.js';
import { refreshTtl, removeKeys, scanKeys } from './scan.js';
import { bytesOf, POP_SCRIPT, WATCHED_BYTES, WRITE_SCRIPT, writeGroups, writeWatched, type WriteGroup } from './writes.js';

export type { RedisServer, RedisClusterServer, RedisStoreOptions } from './options.js';

const EMPTY = new Uint8Array(0);
/** A read that lost its connection is sent again this many times, after 100, 200, 400 ms. */
const READ_RETRIES = 3;
/** `iterate` reads a key this many list elements at a time at first, doubling while they are small. */
const ITERATE_FIRST = 16;
const ITERATE_BYTES = 4 << 20;

/**
 * A store on Redis: each key a Redis list of its appended bytes (segments of at most
 * `segmentBytes`), so an append never rewrites what a key holds and a key may hold more than
 * Redis' 512 MiB per string. On a single server, and on a Cluster with `hashTag`, one call is
 * one Lua script or MULTI/EXEC: atomic, and all or nothing (a key of another type or `maxmemory`
 * refuses the whole call). On a Cluster without `hashTag`, each key's part of a call is atomic
 * on its own. Calls of one instance take effect in call order; a call's commands are pipelined,
 * and calls made without awaiting the previous ones are too. A read that loses its connection
 * is retried; a write that does is reported (`RedisConnectionLostError`), never sent twice.
 * Without `name`, a temporary store: its keys are removed by `drop`, `close` and at exit, and
 * expire after `ttl` without an open instance.
 */
export class Redis extends RawStore {
  /** The store's name (a temporary store's is made up): its keys start with `partd:<name>:`. */
  readonly name: string;
  /** True for a store made without a name. */
  readonly temporary: boolean;
  /** The server, without user name or password: `redis://host:port`, `redis cluster host:port,…`. */
  readonly server: string;
  /** True when every key of the store is in one hash slot. */
  readonly hashTag: boolean;
  /** The keys' TTL in milliseconds, 0 for none. */
  readonly ttl: number;
  readonly #settings: RedisSettings;
  readonly #conn: Connection;
  readonly #layout: Layout;
  readonly #secrets: string[];
  readonly #order = new Pipelined();
  /** One call per key: a Cluster without a hash tag, where keys of a call may be on different shards. */
  readonly #perKey: boolean;
  #stopRefresh: (() => void) | undefined;
  #keepAtExit: (() => void) | undefined;

  /**
   * Opens the store named `options.name` on `server` (a `redis://` or `rediss://` URL, ioredis
   * options, or `{ cluster: nodes, …ClusterOptions }`); without a name, a temporary store.
   */
  constructor(server: RedisServer, options: RedisStoreOptions = {}) {
    super();
    checkServer(server);
    this.#settings = redisSettings(options, () => `tmp-${process.pid}-${randomBytes(9).toString('base64url')}`);
    ({ name: this.name, temporary: this.temporary, hashTag: this.hashTag, ttl: this.ttl } = this.#settings);
    this.server = describeServer(server);
    this.#secrets = secretsOf(server);
    this.#layout = new Layout(this.name, this.hashTag);
    this.#conn = new Connection(server);
    this.#perKey = this.#conn.cluster && !this.hashTag;
    if (this.temporary) this.#keepAtExit = removeAtExit({ server, pattern: this.#layout.all });
    if (this.ttl > 0) this.#stopRefresh = refreshTtl(this.#conn, this.#layout.all, this.ttl);
  }

  protected async appendIds(entries: readonly Entry<Uint8Array>[]): Promise<void> {
    const groups = writeGroups(entries, this.#settings.segmentBytes, this.#perKey ? (id) => id : undefined);
    const [only] = groups;
    if (!this.#perKey && only && bytesOf(only) >= WATCHED_BYTES) return this.#order.runAlone(() => this.#watched('append', only, false));
    return this.#run(() => this.#write('append', groups, false));
  }

  protected async setId(id: string, value: Uint8Array): Promise<void> {
    // one group even when the value is empty: the script then only removes what the key held
    const [group = { ids: [id], counts: [0], segments: [] }] = writeGroups([[id, value]], this.#settings.segmentBytes);
    if (bytesOf(group) >= WATCHED_BYTES) return this.#order.runAlone(() => this.#watched('iset', group, true));
    return this.#run(() => this.#write('iset', [group], true));
  }

  /** A large call, alone on the connection (see `writeWatched`). */
  async #watched(method: string, group: WriteGroup, replace: boolean): Promise<void> {
    await this.#conn.ready().catch(() => undefined); // a Cluster routes WATCH by its key once it knows the slots
    const keys = group.ids.map((id) => this.#layout.key(id));
    await this.#sent(method, true, () => [writeWatched(this.#conn.client, keys, group, this.ttl, replace)], group.ids);
  }

  protected async getIds(ids: readonly string[]): Promise<Uint8Array[]> {
    return (await this.#run(() => this.#read('get', ids))).map(join);
  }

  protected override async getIdsWith(ids: readonly string[], after: readonly Uint8Array[]): Promise<Uint8Array[]> {
    // a copy of after[i] always, even alone: it is the caller's (Spill's fast store's) own bytes
    return (await this.#run(() => this.#read('get', ids))).map((parts, i) =>
      after[i]!.length ? Buffer.concat([...parts, after[i]!]) : join(parts),
    );
  }

  protected override async popIds(ids: readonly string[]): Promise<Uint8Array[]> {
    return (await this.#run(() => this.#pop(ids))).map(join);
  }

  protected override async popChunkIds(ids: readonly string[]): Promise<Uint8Array[][]> {
    return this.#run(() => this.#pop(ids));
  }

  protected async deleteIds(ids: readonly string[]): Promise<void> {
    const keys = ids.map((id) => this.#layout.key(id));
    await this.#run(() =>
      this.#sent('delete', true, () => (this.#perKey ? keys.map((k) => this.#conn.client.unlink(k)) : [this.#conn.client.unlink(keys)])),
    );
  }

  protected async dropAll(): Promise<void> {
    // idempotent, and alone on the connection: sent again after a lost connection, as a read is
    await this.#order.runAlone(() => this.#retrying('drop', () => removeKeys(this.#conn, this.#layout.all)));
  }

  protected async closeStore(): Promise<void> {
    await this.#order.runAlone(async () => {
      this.#stopRefresh?.();
      try {
        if (this.temporary) await this.#retrying('close', () => removeKeys(this.#conn, this.#layout.all));
      } finally {
        this.#keepAtExit?.(); // removed, or the TTL will: either way no longer the exit's to do
        await this.#conn.close();
      }
    });
  }

  protected async *iterateId(id: string): AsyncGenerator<Uint8Array> {
    const key = this.#layout.key(id);
    await this.#order.runAlone(async () => undefined); // after every earlier call
    let count = ITERATE_FIRST;
    for (let at = 0; ;) {
      const from = at;
      const parts = await this.#retrying('iterate', () => this.#conn.client.lrangeBuffer(key, from, from + count - 1));
      for (const part of parts) yield part;
      if (parts.length < count) return;
      at += parts.length;
      if (parts.reduce((n, p) => n + p.length, 0) < ITERATE_BYTES) count = Math.min(count * 2, 4096);
    }
  }

  protected async *listIds(): AsyncGenerator<string> {
    await this.#order.runAlone(async () => undefined);
    const seen = new Set<string>(); // SCAN may return a key twice
    await this.#failing('keys', false, () => this.#conn.ready());
    for (const client of this.#conn.primaries()) {
      const pages = scanKeys(client, this.#layout.data);
      for (;;) {
        const page = await this.#failing('keys', false, () => pages.next());
        if (page.done) break;
        for (const key of page.value) {
          const id = this.#layout.id(key);
          if (id !== undefined && !seen.has(id)) {
            seen.add(id);
            yield id;
          }
        }
      }
    }
  }

  /**
   * Runs a call that issues its commands at once (see `Pipelined`). A Cluster that is not ready
   * yet holds a MULTI back until it is, behind plain commands issued later: so calls wait for it.
   */
  #run<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.#conn.cluster || this.#conn.client.status === 'ready') return this.#order.run(fn);
    return this.#order.runAlone(async () => {
      await this.#conn.ready().catch(() => undefined); // the call itself then fails, naming why
      return fn();
    });
  }

  /** Writes the groups, one script each; on a Cluster without a hash tag, plain RPUSHes (each atomic). */
  async #write(method: string, groups: WriteGroup[], replace: boolean): Promise<void> {
    if (groups.length === 0) return;
    const client = this.#conn.client;
    const ttl = String(this.ttl);
    const ids = groups.flatMap((g) => g.ids);
    await this.#sent(
      method,
      true,
      () =>
        groups.map((g) => {
          const keys = g.ids.map((id) => this.#layout.key(id));
          const segments = g.segments.map(asBuffer);
          if (this.#perKey && !replace) {
            const pushed = client.call('rpush', [keys[0]!, ...segments]);
            return this.ttl > 0 ? Promise.all([pushed, client.pexpire(keys[0]!, this.ttl)]) : pushed;
          }
          return client.call('eval', [WRITE_SCRIPT, keys.length, ...keys, ttl, replace ? '1' : '0', g.counts.join(' '), ...segments]);
        }),
      ids,
    );
  }

  /** The list elements of each id: in one MULTI (a snapshot) where the keys share a slot, else one LRANGE per key. */
  #read(method: string, ids: readonly string[]): Promise<Buffer[][]> {
    const client = this.#conn.client;
    const keys = ids.map((id) => this.#layout.key(id));
    if (this.#perKey || keys.length === 1)
      return this.#retrying(method, () => Promise.all(keys.map((k) => this.#conn.guard(client.lrangeBuffer(k, 0, -1)))));
    return this.#retrying(method, async () => {
      const tx = client.multi();
      for (const k of keys) tx.lrangeBuffer(k, 0, -1);
      return replies(await this.#conn.guard(tx.exec())) as Buffer[][];
    });
  }

  /** Reads and removes the ids, in one script per slot group (the whole call, or each key). */
  async #pop(ids: readonly string[]): Promise<Buffer[][]> {
    const client = this.#conn.client;
    const groups = this.#perKey ? ids.map((id) => [id]) : [ids];
    const results = await this.#sent(
      'pop',
      true,
      () =>
        groups.map(
          (group) =>
            client.callBuffer('eval', [POP_SCRIPT, group.length, ...group.map((id) => this.#layout.key(id))]) as Promise<Buffer[][]>,
        ),
      ids,
    );
    return results.flat();
  }

  /**
   * Awaits the promises `issue` returns, all sent at once, in order; a failure is the store's
   * error. Where a call has several (a Cluster without a hash tag) the message says how many
   * keys of the call were applied.
   */
  async #sent<T>(method: string, writes: boolean, issue: () => Promise<T>[], ids?: readonly string[]): Promise<T[]> {
    let sent: Promise<T>[];
    const down = this.#conn.client.status !== 'ready'; // then queued, not sent: a failure is no lost write
    try {
      sent = issue().map((p) => this.#conn.guard(p));
    } catch (e) {
      throw this.#error(e, method, writes && !down);
    }
    const settled = await Promise.allSettled(sent);
    const at = settled.findIndex((s) => s.status === 'rejected');
    if (at < 0) return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
    if (settled.length === 1) throw this.#error((settled[0] as PromiseRejectedResult).reason, method, writes && !down, ids);
    // one promise per key: the failed one names its key
    const done = settled.filter((s) => s.status === 'fulfilled').length;
    const landed = writes
      ? `on a Cluster without hashTag each key lands on its own: ${done} of ${settled.length} keys of the call were applied`
      : undefined;
    throw this.#error((settled[at] as PromiseRejectedResult).reason, method, writes && !down, ids && [ids[at]!], landed);
  }

  /** Runs `fn` (whose failure is the store's error), sent again after a lost connection: reads, and removals run alone. */
  async #retrying<T>(method: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        if (attempt >= READ_RETRIES || !isLost(e)) throw this.#error(e, method, false);
        await sleep(100 << attempt);
      }
    }
  }

  async #failing<T>(method: string, writes: boolean, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw this.#error(e, method, writes);
    }
  }

  #error(e: unknown, method: string, writes: boolean, ids?: readonly string[], landed?: string): Error {
    const ctx: FailureContext = {
      method,
      server: this.server,
      secrets: this.#secrets,
      writes,
      lastError: this.#conn.lastError,
      ids,
      landed,
    };
    return storeError(e, ctx);
  }
}

/** A MULTI's replies; throws the first command's error (WRONGTYPE…) or the transaction's. */
function replies(results: [Error | null, unknown][] | null): unknown[] {
  if (results === null) throw new Error('the transaction was aborted');
  return results.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}

/** A key's elements as one value (the single element itself: ioredis made it for this call). */
function join(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 0) return EMPTY;
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}
