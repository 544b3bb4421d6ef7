/**
 * The `Redis` store's Lua scripts: one per part of a call (the whole call on a single server or
 * with a hash tag; one primary's keys on a Cluster without). Runs in any thread.
 *
 * A script, not MULTI/EXEC, because a transaction runs the rest when one of its commands fails:
 * a script touches every key first (TYPE) and writes nothing when one is not a list
 * (WRONGTYPE) or is not on this node (its slot moved: Redis refuses the command, so the script
 * stops before any write). The `allow-cross-slot-keys` flag lets one script use keys of every
 * slot its node serves; declared keys of several slots would be refused (CROSSSLOT), so KEYS
 * holds only the first key, which routes the call, and the keys go in ARGV. Sent as EVAL (Redis
 * caches it by its SHA): EVALSHA's NOSCRIPT fallback would send the script again after later
 * calls, out of call order.
 */

/** ARGV[1]: how many keys; ARGV[2…]: the keys. `keys` holds them, `at` is the index of the next argument. */
const KEYS_OF_ARGV = `
local keys = {}
for i = 1, tonumber(ARGV[1]) do keys[i] = ARGV[i + 1] end
local at = #keys + 2
`;

/** Refuses the call, before any write, when a key is another type than a list (or, by Redis, not on this node). */
const LISTS_CHECKED = `
for i = 1, #keys do
  local t = redis.call('TYPE', keys[i])['ok']
  if t ~= 'list' and t ~= 'none' then return redis.error_reply('WRONGTYPE ' .. i .. ' ' .. t) end
end
`;

/**
 * Then: TTL in ms ("0": none); "1" to replace what the keys hold (iset); per key, how many
 * segments follow; the segments, key by key. RPUSH takes them in batches: Lua's unpack stops
 * short of 8000 values. Its flags make Redis refuse it whole at `maxmemory` (OOM) rather than
 * stop it halfway.
 */
export const WRITE_SCRIPT = `#!lua flags=allow-cross-slot-keys
${KEYS_OF_ARGV}${LISTS_CHECKED}
local ttl = tonumber(ARGV[at])
local replace = ARGV[at + 1] == '1'
local counts = ARGV[at + 2]
at = at + 3
local i = 0
for n in string.gmatch(counts, '%d+') do
  i = i + 1
  local key = keys[i]
  if replace then redis.call('UNLINK', key) end
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

/** `pop`: the keys' lists, each removed (a key named twice is empty the second time). Allowed at maxmemory: it only frees. */
export const POP_SCRIPT = `#!lua flags=allow-oom,allow-cross-slot-keys
${KEYS_OF_ARGV}${LISTS_CHECKED}
local out = {}
for i = 1, #keys do
  out[i] = redis.call('LRANGE', keys[i], 0, -1)
  redis.call('UNLINK', keys[i])
end
return out
`;

/** `get` on a Cluster without hash tag (where no MULTI may span slots): the keys' lists, read together. */
export const READ_SCRIPT = `#!lua flags=no-writes,allow-cross-slot-keys
${KEYS_OF_ARGV}${LISTS_CHECKED}
local out = {}
for i = 1, #keys do out[i] = redis.call('LRANGE', keys[i], 0, -1) end
return out
`;

/** `delete` on a Cluster without hash tag: each key removed, whatever it holds, once all are known to be on this node. */
export const DELETE_SCRIPT = `#!lua flags=allow-oom,allow-cross-slot-keys
${KEYS_OF_ARGV}
for i = 1, #keys do redis.call('EXISTS', keys[i]) end
for i = 1, #keys do redis.call('UNLINK', keys[i]) end
return #keys
`;

/** EVAL's arguments for `script` over `keys` (at least one), then `rest` (an array: a call's million segments are no function's arguments). */
export function evalArgs(script: string, keys: readonly string[], rest: readonly (string | Buffer)[] = []): (string | number | Buffer)[] {
  return [script, 1, keys[0]!, keys.length, ...keys, ...rest];
}
