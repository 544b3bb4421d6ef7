/** `Redis`: a store on a Redis server or a Redis Cluster (ioredis). Runs in any thread. */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster } from 'ioredis';
import { Pipelined } from '../../mutex.js';
import { RawStore, type Entry } from '../../partd.js';
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
import { DELETE_SCRIPT, evalArgs, POP_SCRIPT, READ_SCRIPT, WRITE_SCRIPT } from './scripts.js';
import { PartFailed, sendParts, type Part } from './shards.js';
import { bytesOf, WATCHED_BYTES, writeArgs, writeGroup, writeWatched, type WriteGroup } from './writes.js';

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
 * refuses the whole call). On a Cluster without `hashTag`, a call is one script per primary its
 * keys are on: each primary's part is atomic and all or nothing, the whole call is not (a part may
 * fail while the others are applied, and the error says how many were). Calls of one instance
 * take effect in call order; a call's scripts are pipelined, and calls made without awaiting the
 * previous ones are too. A read that loses its connection
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
  /** The client on a Cluster without a hash tag, where a call is one script per primary its keys are on. */
  readonly #shards: Cluster | undefined;
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
    this.#shards = this.#conn.cluster && !this.hashTag ? (this.#conn.client as Cluster) : undefined;
    if (this.temporary) this.#keepAtExit = removeAtExit({ server, pattern: this.#layout.all });
    if (this.ttl > 0) this.#stopRefresh = refreshTtl(this.#conn, this.#layout.all, this.ttl);
  }

  protected async appendIds(entries: readonly Entry<Uint8Array>[]): Promise<void> {
    const group = writeGroup(entries, this.#settings.segmentBytes);
    if (!this.#shards && bytesOf(group) >= WATCHED_BYTES) return this.#order.runAlone(() => this.#watched('append', group, false));
    return this.#run(() => this.#write('append', group, false));
  }

  protected async setId(id: string, value: Uint8Array): Promise<void> {
    // one group even when the value is empty: the script then only removes what the key held
    const written = writeGroup([[id, value]], this.#settings.segmentBytes);
    const group = written.ids.length ? written : { ids: [id], segments: [[]] };
    if (!this.#shards && bytesOf(group) >= WATCHED_BYTES) return this.#order.runAlone(() => this.#watched('iset', group, true));
    return this.#run(() => this.#write('iset', group, true));
  }

  /** A large call, alone on the connection (see `writeWatched`). */
  async #watched(method: string, group: WriteGroup, replace: boolean): Promise<void> {
    await this.#conn.ready().catch(() => undefined); // a Cluster routes WATCH by its key once it knows the slots
    const keys = group.ids.map((id) => this.#layout.key(id));
    await this.#sent(method, true, () => this.#conn.guard(writeWatched(this.#conn.client, keys, group, this.ttl, replace)), group.ids);
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
    const client = this.#conn.client;
    await this.#run(() =>
      this.#sent(
        'delete',
        true,
        () =>
          this.#parts(ids, true, async (keys) => {
            await (this.#shards && keys.length > 1 ? client.call('eval', evalArgs(DELETE_SCRIPT, keys)) : client.unlink(keys));
            return [];
          }),
        ids,
      ),
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

  /** Writes the group: one script per part of it. */
  async #write(method: string, group: WriteGroup, replace: boolean): Promise<void> {
    if (group.ids.length === 0) return;
    const client = this.#conn.client;
    await this.#sent(
      method,
      true,
      () =>
        this.#parts(group.ids, true, async (keys, at) => {
          await client.call(
            'eval',
            evalArgs(
              WRITE_SCRIPT,
              keys,
              writeArgs(
                at.map((i) => group.segments[i]!),
                this.ttl,
                replace,
              ),
            ),
          );
          return [];
        }),
      group.ids,
    );
  }

  /**
   * The list elements of each id, a snapshot of each part: one key's LRANGE; several keys' MULTI
   * on one slot, or script on one primary of a Cluster without a hash tag (no MULTI spans slots).
   */
  #read(method: string, ids: readonly string[]): Promise<Buffer[][]> {
    const client = this.#conn.client;
    return this.#retrying(
      method,
      () =>
        this.#parts(ids, false, async (keys) => {
          if (keys.length === 1) return [await client.lrangeBuffer(keys[0]!, 0, -1)];
          if (this.#shards) return (await client.callBuffer('eval', evalArgs(READ_SCRIPT, keys))) as Buffer[][];
          const tx = client.multi();
          for (const k of keys) tx.lrangeBuffer(k, 0, -1);
          return replies(await tx.exec()) as Buffer[][];
        }),
      ids,
    );
  }

  /** Reads and removes the ids, one script per part. */
  #pop(ids: readonly string[]): Promise<Buffer[][]> {
    const client = this.#conn.client;
    return this.#sent(
      'pop',
      true,
      () => this.#parts(ids, true, (keys) => client.callBuffer('eval', evalArgs(POP_SCRIPT, keys)) as Promise<Buffer[][]>),
      ids,
    );
  }

  /** `sendParts` over the ids' keys (one part unless on a Cluster without a hash tag), each part's promise guarded. */
  #parts<T>(ids: readonly string[], writes: boolean, send: (keys: string[], at: Part) => Promise<T[]>): Promise<T[]> {
    const keys = ids.map((id) => this.#layout.key(id));
    return sendParts(this.#shards, keys, (k, at) => this.#conn.guard(send(k, at)), writes);
  }

  /** Awaits `issue()`, its commands sent at once; a failure is the store's error (`PartFailed` names its part's keys). */
  async #sent<T>(method: string, writes: boolean, issue: () => Promise<T>, ids?: readonly string[]): Promise<T> {
    const down = this.#conn.client.status !== 'ready'; // then queued, not sent: a failure is no lost write
    try {
      return await issue();
    } catch (e) {
      throw this.#error(e, method, writes && !down, ids);
    }
  }

  /** Runs `fn` (whose failure is the store's error), sent again after a lost connection: reads, and removals run alone. */
  async #retrying<T>(method: string, fn: () => Promise<T>, ids?: readonly string[]): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        if (attempt >= READ_RETRIES || !isLost(e instanceof PartFailed ? e.reason : e)) throw this.#error(e, method, false, ids);
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

  #error(e: unknown, method: string, writes: boolean, ids?: readonly string[]): Error {
    let landed: string | undefined;
    if (e instanceof PartFailed) {
      ({ landed } = e);
      ids = ids && e.at.map((i) => ids![i]!);
      e = e.reason;
    }
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
