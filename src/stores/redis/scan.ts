/**
 * The `Redis` store's walks over all its keys, on every primary: listing them, removing them
 * (drop, close of a temporary store, the exit cleanup), refreshing their TTL (on a timer while
 * the store is open). Runs in any thread.
 *
 * SCAN may return a key twice and misses none that exists for the whole walk; a Cluster's node
 * holds keys of many slots, so a batch is sent as one command per key (pipelined) there, and as
 * one multi-key command on a single server.
 */
import type { Redis as IORedis } from 'ioredis';
import type { Connection } from './connection.js';

const BATCH = 1000;

/** The keys matching `pattern` on one server, a SCAN page at a time. */
export async function* scanKeys(client: IORedis, pattern: string): AsyncGenerator<string[]> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', BATCH);
    cursor = next;
    if (keys.length > 0) yield keys;
  } while (cursor !== '0');
}

/** Runs `each` on every page of keys matching `pattern`, on every primary. */
async function forEachPage(conn: Connection, pattern: string, each: (client: IORedis, keys: string[]) => Promise<unknown>): Promise<void> {
  await conn.ready();
  await Promise.all(
    conn.primaries().map(async (client) => {
      for await (const keys of scanKeys(client, pattern)) await each(client, keys);
    }),
  );
}

/** Removes every key matching `pattern`. */
export async function removeKeys(conn: Connection, pattern: string): Promise<void> {
  await forEachPage(conn, pattern, (client, keys) => {
    if (!conn.cluster) return client.unlink(keys);
    const p = client.pipeline();
    for (const key of keys) p.unlink(key);
    return execPipeline(p);
  });
}

/** Sets the TTL of every key matching `pattern` to `ttl` ms. */
async function expireKeys(conn: Connection, pattern: string, ttl: number): Promise<void> {
  await forEachPage(conn, pattern, (client, keys) => {
    const p = client.pipeline();
    for (const key of keys) p.pexpire(key, ttl);
    return execPipeline(p);
  });
}

/** A pipeline's replies; throws the first command's error. */
async function execPipeline(p: ReturnType<IORedis['pipeline']>): Promise<void> {
  for (const [err] of (await p.exec()) ?? []) if (err) throw err;
}

/**
 * Sets the TTL of the keys matching `pattern` again every third of `ttl`, while the process
 * runs on (the timer does not keep it alive); returns the function that stops it. A turn that
 * fails (the server away) waits for the next; each write sets the TTL of its keys meanwhile.
 */
export function refreshTtl(conn: Connection, pattern: string, ttl: number): () => void {
  let running = false;
  const timer = setInterval(
    () => {
      if (running) return;
      running = true;
      expireKeys(conn, pattern, ttl)
        .catch(() => undefined)
        .finally(() => (running = false));
    },
    Math.max(1, Math.floor(ttl / 3)),
  );
  timer.unref();
  return () => clearInterval(timer);
}
