/**
 * How the `Redis` store writes and pops: one Lua script per atomic group of keys (the whole call on a
 * single server or with a hash tag; one key on a Cluster without), whose arguments are the
 * segments in append order. Runs in any thread.
 *
 * A script, not MULTI/EXEC, because a transaction runs the rest when one of its commands fails:
 * the script checks every key's type first and writes nothing when one is not a list
 * (WRONGTYPE). Its shebang makes Redis refuse it whole at `maxmemory` (OOM) rather than stop it
 * halfway. Sent as EVAL (Redis caches it by its SHA): EVALSHA's NOSCRIPT fallback would send the
 * script again after later calls, out of call order.
 */
import type { Cluster, Redis as IORedis } from 'ioredis';
import { asBuffer, type Entry } from '../../partd.js';

type Client = IORedis | Cluster;

/**
 * KEYS: the keys, each once. ARGV[1]: TTL in ms ("0": none); ARGV[2]: "1" to replace what the
 * keys hold (iset); ARGV[3]: per key, how many segments follow; ARGV[4…]: the segments, key by
 * key. RPUSH takes them in batches: Lua's unpack stops short of 8000 values.
 */
export const WRITE_SCRIPT = `#!lua
local ttl = tonumber(ARGV[1])
for i = 1, #KEYS do
  local t = redis.call('TYPE', KEYS[i])['ok']
  if t ~= 'list' and t ~= 'none' then return redis.error_reply('WRONGTYPE ' .. i .. ' ' .. t) end
end
local at = 4
local i = 0
for n in string.gmatch(ARGV[3], '%d+') do
  i = i + 1
  local key = KEYS[i]
  if ARGV[2] == '1' then redis.call('UNLINK', key) end
  local last = at + tonumber(n) - 1
  while at <= last do
    local upto = math.min(at + 999, last)
    redis.call('RPUSH', key, unpack(ARGV, at, upto))
    at = upto + 1
  end
  if ttl > 0 then redis.call('PEXPIRE', key, ttl) end
end
return i
`;

/**
 * `pop`: KEYS: the keys (a key named twice is empty the second time). Their lists, each removed;
 * nothing read nor removed when one is not a list. Allowed at maxmemory: it only frees.
 */
export const POP_SCRIPT = `#!lua flags=allow-oom
for i = 1, #KEYS do
  local t = redis.call('TYPE', KEYS[i])['ok']
  if t ~= 'list' and t ~= 'none' then return redis.error_reply('WRONGTYPE ' .. i .. ' ' .. t) end
end
local out = {}
for i = 1, #KEYS do
  out[i] = redis.call('LRANGE', KEYS[i], 0, -1)
  redis.call('UNLINK', KEYS[i])
end
return out
`;

/** One script call: its keys, each key's segment count, and the segments. */
export interface WriteGroup {
  /** Key ids, each once, in first-seen order. */
  ids: string[];
  counts: number[];
  segments: Uint8Array[];
}

/**
 * Entries grouped by `groupOf(id)` (one group: every entry in one), each group's ids once in the
 * order first seen, a key's values in call order cut into segments of at most `segmentBytes`
 * (views, no copy). Empty values are dropped: a key exists only while it holds bytes.
 */
export function writeGroups(entries: readonly Entry<Uint8Array>[], segmentBytes: number, groupOf?: (id: string) => string): WriteGroup[] {
  const byId = new Map<string, Uint8Array[]>();
  for (const [id, value] of entries) {
    if (value.length === 0) continue;
    let parts = byId.get(id);
    if (parts === undefined) byId.set(id, (parts = []));
    for (let at = 0; at < value.length; at += segmentBytes) parts.push(value.subarray(at, Math.min(at + segmentBytes, value.length)));
  }
  const groups = new Map<string, WriteGroup>();
  for (const [id, parts] of byId) {
    const g = groupOf?.(id) ?? '';
    let group = groups.get(g);
    if (group === undefined) groups.set(g, (group = { ids: [], counts: [], segments: [] }));
    group.ids.push(id);
    group.counts.push(parts.length);
    for (const p of parts) group.segments.push(p);
  }
  return [...groups.values()];
}

/** The bytes of a group's segments. */
export function bytesOf(group: WriteGroup): number {
  return group.segments.reduce((n, s) => n + s.length, 0);
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
    let at = 0;
    keys.forEach((key, i) => {
      if (replace) tx.unlink(key);
      const n = group.counts[i]!;
      if (n > 0) tx.rpush(key, ...group.segments.slice(at, at + n).map(asBuffer));
      at += n;
      if (ttl > 0) tx.pexpire(key, ttl);
    });
    const results = await tx.exec();
    if (results === null) continue; // a watched key changed: again
    for (const [err] of results) if (err) throw err;
    return;
  }
}
