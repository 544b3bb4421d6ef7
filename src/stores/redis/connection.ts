/**
 * The `Redis` store's connection: the ioredis client with the options the store relies on, and
 * which calls were on their way when a connection was lost. Runs in any thread.
 *
 * ioredis sends again, after a reconnect, a command that was on its way when the connection
 * dropped (`autoResendUnfulfilledCommands`; a Cluster after `retryDelayOnFailover`): a write
 * Redis had applied would then be applied twice. The store turns both off. But then ioredis
 * drops such a command without ever settling its promise, so this class settles it: a command
 * sent while the connection was ready rejects with `LOST` when that connection closes. A command
 * issued while the client was (re)connecting waits in ioredis' offline queue and goes out on the
 * next connection: it was never sent, so it is not lost. A Cluster's node connections do not
 * reconnect (ioredis makes new ones): their commands reject with "Connection is closed.".
 */
import type { Cluster, Redis as IORedis, ClusterOptions, RedisOptions as IORedisOptions } from 'ioredis';
import { ioredisModule } from './clients.js';
import { isClusterServer, type RedisServer } from './options.js';

/** The reason a call was rejected when its connection was lost before the reply. */
export const LOST = Symbol('partd: Redis connection lost');

/** ioredis' message for commands of a connection that closed. */
export const CONNECTION_CLOSED = 'Connection is closed.';

/** What the store sets whatever the caller gave (see the module comment). */
const FORCED_NODE: IORedisOptions = { autoResendUnfulfilledCommands: false };
/**
 * Defaults the caller may override: a call waiting for a connection fails after 3 reconnect
 * attempts rather than 20, and attempts are at most 500 ms apart rather than 5 s — about 1.5 s
 * in all, where ioredis' defaults wait over a minute before the first call fails. And a closed
 * connection's socket is destroyed after 200 ms rather than 2 s: ioredis waits that long on a
 * socket that never connected, which kept a process alive after closing a store it could not reach.
 */
const NODE_DEFAULTS: IORedisOptions = {
  maxRetriesPerRequest: 3,
  retryStrategy: (times) => Math.min(50 * 2 ** (times - 1), 500),
  disconnectTimeout: 200,
};
/** Likewise for a Cluster: give up after 5 attempts to reach any node (about 1.5 s), rather than never. */
const CLUSTER_DEFAULTS: ClusterOptions = { clusterRetryStrategy: (times) => (times > 5 ? null : 100 * times) };

type Client = IORedis | Cluster;

/** Options laid over a server's own: `…Defaults` under them, the others over them (a Cluster's node options in `node…` too). */
export interface ClientLayers {
  nodeDefaults?: IORedisOptions;
  node?: IORedisOptions;
  clusterDefaults?: ClusterOptions;
  cluster?: ClusterOptions;
}

/** An ioredis client of a server or a Cluster (as `RedisServer` describes it), with `layers` over its options. */
export function redisClient(server: RedisServer, layers: ClientLayers): Client {
  const { Cluster, Redis } = ioredisModule();
  if (isClusterServer(server)) {
    const { cluster: nodes, ...options } = server;
    return new Cluster(nodes, {
      ...layers.clusterDefaults,
      ...options,
      ...layers.cluster,
      redisOptions: { ...layers.nodeDefaults, ...options.redisOptions, ...layers.node },
    });
  }
  return typeof server === 'string'
    ? new Redis(server, { ...layers.nodeDefaults, ...layers.node })
    : new Redis({ ...layers.nodeDefaults, ...server, ...layers.node });
}

/** A client of one server or a Cluster, with lost calls settled. */
export class Connection {
  readonly client: Client;
  readonly cluster: boolean;
  /** The last connection error ioredis reported (its message), for the unreachable error. */
  lastError: string | undefined;
  #live: Set<(reason: unknown) => void> | undefined; // calls on the ready connection
  #next = new Set<(reason: unknown) => void>(); // calls waiting for the next one
  #readySeen = false;

  constructor(server: RedisServer) {
    this.cluster = isClusterServer(server);
    this.client = redisClient(server, {
      nodeDefaults: NODE_DEFAULTS,
      node: FORCED_NODE,
      clusterDefaults: CLUSTER_DEFAULTS,
      cluster: { retryDelayOnFailover: 0 }, // "Connection is closed." reaches the store, which retries reads only
    });
    if (!this.cluster) {
      this.client.on('ready', () => {
        this.#live = this.#next;
        this.#next = new Set();
        this.#readySeen = true;
      });
      this.client.on('close', () => {
        if (!this.#readySeen) return; // a failed attempt: its queued commands were never sent
        this.#readySeen = false;
        const lost = this.#live;
        this.#live = undefined;
        for (const reject of lost ?? []) reject(LOST);
      });
    }
    // Without a listener ioredis prints every connection error; the store reports them in its errors.
    const remember = (e: unknown) => {
      this.lastError = (e instanceof Error ? e.message : String(e)).replace(/^Error: /, '');
    };
    this.client.on('error', remember);
    this.client.on('node error', remember);
  }

  /**
   * `sent` (the promise of commands just issued), rejecting with `LOST` instead of hanging when
   * the connection they went out on closes before their reply.
   */
  guard<T>(sent: Promise<T>): Promise<T> {
    if (this.cluster) return sent;
    const calls = this.client.status === 'ready' && this.#readySeen ? this.#live! : this.#next;
    return new Promise<T>((resolve, reject) => {
      calls.add(reject);
      sent.then(
        (v) => {
          calls.delete(reject);
          resolve(v);
        },
        (e: unknown) => {
          calls.delete(reject);
          reject(e);
        },
      );
    });
  }

  /** Resolves once the client knows its nodes (a Cluster its primaries); rejects when it cannot reach them. */
  async ready(): Promise<void> {
    if (this.client.status !== 'ready') await this.client.ping(); // queued until ready, or failed with the reason
  }

  /** The clients of the primaries (the one client of a single server). */
  primaries(): IORedis[] {
    return this.cluster ? (this.client as Cluster).nodes('master') : [this.client as IORedis];
  }

  /** Closes the connection: politely when it is up, at once when it is not. */
  async close(): Promise<void> {
    if (this.client.status === 'ready') {
      try {
        await this.client.quit();
        return;
      } catch {
        /* lost meanwhile: disconnect below */
      }
    }
    this.client.disconnect();
  }
}
