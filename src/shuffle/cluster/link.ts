/**
 * A distributed job's line to Redis, for its coordinator and its workers alike: the `cluster`
 * option checked, one ioredis client (the `Redis` store's Connection: no command ever sent
 * twice by ioredis), calls retried through a failover, errors named and scrubbed of
 * credentials, and the BullMQ queue's connections.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster, Redis as IORedis } from 'ioredis';
import type { Queue, ConnectionOptions } from 'bullmq';
import { describe, RedisOutOfMemoryError } from '../../errors.js';
import { positiveInt } from '../checks.js';
import { Connection, redisClient } from '../../stores/redis/connection.js';
import { bullmqModule } from '../../stores/redis/clients.js';
import { removeKeys } from '../../stores/redis/scan.js';
import { isLost, storeError } from '../../stores/redis/failures.js';
import { checkServer, describeServer, secretsOf, type RedisServer } from '../../stores/redis/options.js';

/** Where a distributed job runs: the Redis server or Cluster its workers listen on, and their queue. */
export interface ClusterOptions {
  /** A `redis://` or `rediss://` URL, ioredis options, or `{ cluster: nodes }` (as `new Redis` takes). */
  redis: RedisServer;
  /** The queue `partd worker --queue NAME` takes tasks from (default `partd`). */
  queue?: string;
  /** Milliseconds the job waits for a worker on its queue before it fails with NoWorkersError (default 30,000). */
  workerWait?: number;
}

/** The `cluster` option, checked. */
export interface ClusterSettings {
  server: RedisServer;
  queue: string;
  workerWait: number;
}

const NAME = /^[A-Za-z0-9_.-]{1,100}$/;

/** Checks the `cluster` option (`arg` names it in errors). */
export function checkCluster(value: unknown, arg = 'cluster'): ClusterSettings {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new TypeError(`${arg}: expected { redis, queue? }, got ${describe(value)}`);
  const { redis, queue = 'partd', workerWait, ...rest } = value as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw new RangeError(`${arg}: unknown option ${JSON.stringify(unknown[0])} (known: redis, queue, workerWait)`);
  if (redis === undefined) throw new TypeError(`${arg}.redis: expected a Redis URL, ioredis options or { cluster: nodes }`);
  checkServer(redis);
  if (typeof queue !== 'string' || !NAME.test(queue))
    throw new TypeError(`${arg}.queue: expected 1 to 100 letters, digits, '_', '.' or '-', got ${describe(queue)}`);
  return { server: redis as RedisServer, queue, workerWait: positiveInt(workerWait, `${arg}.workerWait`, 30_000, 0) };
}

/** Checks a job name (the `store` option of a distributed job). */
export function checkJobName(name: unknown): string | undefined {
  if (name === undefined) return undefined;
  if (typeof name !== 'string' || !NAME.test(name))
    throw new TypeError(
      `store: a distributed job's store is a name for its keys in Redis: 1 to 100 letters, digits, '_', '.' or '-', got ${describe(name)}`,
    );
  return name;
}

/** How long a call keeps being retried through lost connections: a Cluster's failover takes seconds. */
const RETRY_MS = 20_000;

/** One client to Redis, with retried calls. */
export class Link {
  readonly server: string;
  readonly #conn: Connection;
  readonly #secrets: string[];
  /** BullMQ's connections: BullMQ leaves a connection it was given open, so the link closes them. */
  readonly #bull: (IORedis | Cluster)[] = [];

  constructor(readonly settings: ClusterSettings) {
    this.server = describeServer(settings.server);
    this.#secrets = secretsOf(settings.server);
    this.#conn = new Connection(settings.server);
  }

  get client(): IORedis | Cluster {
    return this.#conn.client;
  }

  /**
   * Runs `fn` (idempotent: every call of a distributed job is, see scripts.ts), again while the
   * connection is lost or the Cluster fails over; then throws the named error (`method` in it).
   */
  async call<T>(method: string, fn: (client: IORedis | Cluster) => Promise<T>): Promise<T> {
    const deadline = Date.now() + RETRY_MS;
    for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
      try {
        return await this.#conn.guard(fn(this.#conn.client));
      } catch (e) {
        const err = storeError(e, { method, server: this.server, secrets: this.#secrets, writes: false, lastError: this.#conn.lastError });
        if (err instanceof RedisOutOfMemoryError || Date.now() > deadline || !(isLost(e) || transient(err, e))) throw err;
        // after a failover a Cluster client may still list the dead primary (a SCAN goes to it): ask the nodes again
        if (this.#conn.cluster) (this.#conn.client as Cluster).refreshSlotsCache();
        await sleep(delay);
      }
    }
  }

  /** Removes every key matching `pattern`, on every primary. */
  async removeMatching(pattern: string): Promise<void> {
    await this.call('remove keys', () => removeKeys(this.#conn, pattern));
  }

  /** A fresh connection's options for BullMQ (it needs its own, without a limit on retries). */
  bullConnection(): ConnectionOptions {
    const client = redisClient(this.settings.server, { node: { maxRetriesPerRequest: null } });
    client.on('error', () => undefined); // BullMQ reports what fails; ioredis would print every reconnect
    this.#bull.push(client);
    return client;
  }

  /** Closes the client and BullMQ's (close the queues and workers first). */
  async close(): Promise<void> {
    for (const c of this.#bull.splice(0)) c.disconnect();
    await this.#conn.close();
  }
}

/** Unreachable for now (refused, a failover under way): worth another try within the deadline. */
function transient(err: Error, e: unknown): boolean {
  const m = e instanceof Error ? e.message : '';
  return err.name === 'RedisUnreachableError' || /^(MOVED|ASK|LOADING|READONLY|MASTERDOWN)\b/.test(m);
}

/** The BullMQ prefix of a queue: a hash tag, so that its keys share a slot on a Cluster, as BullMQ needs. */
export const queuePrefix = (queue: string) => `{partd-${queue}}`;

/** The job queue of `settings.queue`. */
export function openQueue(link: Link): Queue {
  return new (bullmqModule().Queue)(link.settings.queue, { connection: link.bullConnection(), prefix: queuePrefix(link.settings.queue) });
}
