/**
 * What `new Redis(server, options)` takes: where the server is (a URL, ioredis options, or a
 * Cluster's nodes) and the store's own options, checked; the server described without its
 * credentials. Runs in any thread.
 */
import type { ClusterNode, ClusterOptions, RedisOptions as IORedisOptions } from 'ioredis';
import { describe } from '../../errors.js';

/** A Redis Cluster: its nodes (any of them will do to start) and ioredis' Cluster options. */
export interface RedisClusterServer extends ClusterOptions {
  cluster: ClusterNode[];
}

/**
 * Where the server is: a URL (`redis://[user:password@]host:port[/db]`, or `rediss://` for TLS),
 * ioredis' options for one server (`{ host, port, password, tls, … }`), or `{ cluster: nodes,
 * …ioredis' ClusterOptions }`. URLs, passwords and TLS options go to ioredis as given.
 */
export type RedisServer = string | IORedisOptions | RedisClusterServer;

/** The `Redis` store's own options. */
export interface RedisStoreOptions {
  /**
   * The store's name: its keys are `partd:<name>:…`, kept until deleted, and shared by every
   * instance of that name. Without a name the store is temporary: a unique name, its keys
   * removed by `drop`/`close` and at process exit, with a TTL as a backstop.
   */
  name?: string;
  /**
   * Put every key of the store in one hash slot (`partd:{<name>}:…`), so that on a Cluster one
   * call is atomic across its keys, as on a single server; the store then lives on one shard.
   * Default false: on a Cluster, keys spread over the shards and each key's part of a call is
   * atomic on its own.
   */
  hashTag?: boolean;
  /**
   * Milliseconds (at least 1000) after which a key no instance touched expires; refreshed while
   * an instance is open (every third of it) and at each write. Default: one hour for a
   * temporary store (the backstop for a process that died without cleaning up), none for a
   * named one.
   */
  ttl?: number;
  /**
   * A value is kept as list elements of at most this many bytes (default 16 MiB, at most
   * 512 MiB, Redis' limit for one string), so a key may hold more than 512 MiB.
   */
  segmentBytes?: number;
}

/** The options with their defaults. */
export interface RedisSettings {
  name: string;
  temporary: boolean;
  hashTag: boolean;
  /** Milliseconds, or 0 for none. */
  ttl: number;
  segmentBytes: number;
}

const KNOWN: readonly (keyof RedisStoreOptions)[] = ['name', 'hashTag', 'ttl', 'segmentBytes'];
export const DEFAULT_TEMPORARY_TTL = 3_600_000;
const MAX_SEGMENT = 512 << 20;

/** The store's options checked, with their defaults; `temporaryName` names a store made without one. */
export function redisSettings(options: RedisStoreOptions, temporaryName: () => string): RedisSettings {
  if (options === null || typeof options !== 'object' || Array.isArray(options))
    throw new TypeError(`options: expected an object, got ${describe(options)}`);
  for (const key of Object.keys(options)) {
    if (!(KNOWN as readonly string[]).includes(key))
      throw new RangeError(`options: unknown option ${JSON.stringify(key)} (known: ${KNOWN.join(', ')})`);
  }
  const { name, hashTag = false, ttl, segmentBytes = 16 << 20 } = options;
  if (
    name !== undefined &&
    (typeof name !== 'string' || name === '' || name.length > 200 || /[{}*?[\]\\]/.test(name) || !name.isWellFormed())
  )
    throw new TypeError(`name: expected a non-empty string of at most 200 characters without { } * ? [ ] \\, got ${describe(name)}`);
  if (typeof hashTag !== 'boolean') throw new TypeError(`hashTag: expected a boolean, got ${describe(hashTag)}`);
  if (ttl !== undefined && (typeof ttl !== 'number' || !Number.isSafeInteger(ttl) || ttl < 1000))
    throw new RangeError(`ttl: expected an integer number of milliseconds >= 1000, got ${describe(ttl)}`);
  if (typeof segmentBytes !== 'number' || !Number.isSafeInteger(segmentBytes) || segmentBytes < 1 || segmentBytes > MAX_SEGMENT)
    throw new RangeError(`segmentBytes: expected an integer from 1 to ${MAX_SEGMENT}, got ${describe(segmentBytes)}`);
  const temporary = name === undefined;
  return {
    name: name ?? temporaryName(),
    temporary,
    hashTag,
    ttl: ttl ?? (temporary ? DEFAULT_TEMPORARY_TTL : 0),
    segmentBytes,
  };
}

/** True for `{ cluster: nodes, … }`. */
export function isClusterServer(server: RedisServer): server is RedisClusterServer {
  return typeof server === 'object' && server !== null && 'cluster' in server;
}

/** Checks the shape of `server` (ioredis checks the rest); throws a TypeError naming it. */
export function checkServer(server: unknown): asserts server is RedisServer {
  if (typeof server === 'string') {
    if (!/^rediss?:\/\//.test(server))
      throw new TypeError(`server: expected a redis:// or rediss:// URL, got ${describe(redactUrl(server))}`);
    return;
  }
  if (server === null || typeof server !== 'object' || Array.isArray(server))
    throw new TypeError(`server: expected a redis:// URL, ioredis options or { cluster: nodes }, got ${describe(server)}`);
  if ('cluster' in server) {
    const nodes = (server as { cluster: unknown }).cluster;
    if (!Array.isArray(nodes) || nodes.length === 0)
      throw new TypeError(`server.cluster: expected a non-empty array of nodes ("host:port" or { host, port }), got ${describe(nodes)}`);
  }
}

/** A URL without its user and password. */
function redactUrl(url: string): string {
  return url.replace(/^(\w+:\/\/)[^@/]*@/, '$1');
}

/**
 * The server as the store names it in errors and `server`: scheme, hosts and ports, and a
 * database number; never a user name or password.
 */
export function describeServer(server: RedisServer): string {
  if (typeof server === 'string') {
    try {
      const u = new URL(server);
      return `${u.protocol}//${u.host}${u.pathname.length > 1 ? u.pathname : ''}`;
    } catch {
      return redactUrl(server).replace(/[?#].*$/, '');
    }
  }
  if (isClusterServer(server)) {
    const tls = server.redisOptions?.tls !== undefined;
    return `${tls ? 'rediss' : 'redis'} cluster ${server.cluster.map(nodeName).join(',')}`;
  }
  if (server.path) return `redis+unix://${server.path}`;
  const db = server.db ? `/${server.db}` : '';
  return `${server.tls ? 'rediss' : 'redis'}://${server.host ?? 'localhost'}:${server.port ?? 6379}${db}`;
}

function nodeName(node: ClusterNode): string {
  if (typeof node === 'number') return `localhost:${node}`;
  if (typeof node === 'string') return describeServer(/^\w+:\/\//.test(node) ? node : `redis://${node}`).replace(/^\w+:\/\//, '');
  return `${node.host ?? 'localhost'}:${node.port ?? 6379}`;
}

/** The passwords in `server`, so that no message can carry one even when a library quotes it. */
export function secretsOf(server: RedisServer): string[] {
  const out: string[] = [];
  const fromUrl = (url: string) => {
    try {
      const u = new URL(url);
      if (u.password) out.push(decodeURIComponent(u.password), u.password);
      else if (u.username) out.push(decodeURIComponent(u.username), u.username); // redis://secret@host: the password alone
    } catch {
      /* not a URL: nothing to find */
    }
  };
  if (typeof server === 'string') fromUrl(server);
  else if (isClusterServer(server)) {
    if (server.redisOptions?.password) out.push(server.redisOptions.password);
    for (const node of server.cluster) if (typeof node === 'string') fromUrl(/^\w+:\/\//.test(node) ? node : `redis://${node}`);
  } else if (server.password) out.push(server.password);
  return out.filter((s) => s.length > 0);
}
