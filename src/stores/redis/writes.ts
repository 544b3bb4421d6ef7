/**
 * How the `Redis` store groups a write: each key once, its values cut into segments; and the
 * large write that goes as WATCH + MULTI/EXEC instead of a script (scripts.ts). Runs in any thread.
 */
import type { Cluster, Redis as IORedis } from 'ioredis';
import { asBuffer, type Entry } from '../../partd.js';

type Client = IORedis | Cluster;

/** A write: its keys and each key's segments. */
export interface WriteGroup {
  /** Key ids, each once, in first-seen order. */
  ids: string[];
  /** Per id, its segments in append order. */
  segments: Uint8Array[][];
}

/**
 * The entries as one group: each id once in the order first seen, a key's values in call order
 * cut into segments of at most `segmentBytes` (views, no copy). Empty values are dropped: a key
 * exists only while it holds bytes.
 */
export function writeGroup(entries: readonly Entry<Uint8Array>[], segmentBytes: number): WriteGroup {
  const byId = new Map<string, Uint8Array[]>();
  for (const [id, value] of entries) {
    if (value.length === 0) continue;
    let parts = byId.get(id);
    if (parts === undefined) byId.set(id, (parts = []));
    for (let at = 0; at < value.length; at += segmentBytes) parts.push(value.subarray(at, Math.min(at + segmentBytes, value.length)));
  }
  return { ids: [...byId.keys()], segments: [...byId.values()] };
}

/** The write script's arguments after the keys (scripts.ts): TTL, replace, the segment counts, the segments. */
export function writeArgs(segments: readonly Uint8Array[][], ttl: number, replace: boolean): (string | Buffer)[] {
  const out: (string | Buffer)[] = [String(ttl), replace ? '1' : '0', segments.map((s) => s.length).join(' ')];
  for (const key of segments) for (const s of key) out.push(asBuffer(s));
  return out;
}

/** The bytes of a group's segments. */
export function bytesOf(group: WriteGroup): number {
  return group.segments.reduce((n, key) => key.reduce((m, s) => m + s.length, n), 0);
}

/** A call of at least this many bytes goes as a watched MULTI (`writeWatched`) rather than a script. */
export const WATCHED_BYTES = 8 << 20;

/**
 * One group as WATCH, TYPE of each key, then MULTI/EXEC of the RPUSHes: all or nothing like the
 * script, without its copies (Redis copies a script's arguments into Lua strings, and RPUSH
 * copies them again: 513 MiB took 11 s as a script, 1 s so). A key changed between WATCH and
 * EXEC aborts the EXEC: then it starts again. The caller runs it alone on its connection (WATCH
 * is the connection's, and a later call of its own must not slip in between).
 */
export async function writeWatched(client: Client, keys: string[], group: WriteGroup, ttl: number, replace: boolean): Promise<void> {
  for (;;) {
    await client.watch(keys);
    const types = await Promise.all(keys.map((k) => client.type(k)));
    const wrong = types.findIndex((t) => t !== 'list' && t !== 'none');
    if (wrong >= 0) {
      await client.unwatch();
      throw new Error(`WRONGTYPE ${wrong + 1} ${types[wrong]}`); // as the script says it
    }
    const tx = client.multi();
    keys.forEach((key, i) => {
      if (replace) tx.unlink(key);
      const segments = group.segments[i]!;
      if (segments.length > 0) tx.rpush(key, ...segments.map(asBuffer));
      if (ttl > 0) tx.pexpire(key, ttl);
    });
    const results = await tx.exec();
    if (results === null) continue; // a watched key changed: again
    for (const [err] of results) if (err) throw err;
    return;
  }
}
