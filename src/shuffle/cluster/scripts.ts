/**
 * The atomic steps of a distributed job, as Lua scripts on its bookkeeping keys (one hash slot:
 * keys.ts). Each is safe to send again after a lost reply: it then reports the same outcome.
 */

/**
 * A split attempt's commit: refused once the job is gone or the split moved to another
 * generation; the first commit of a generation wins. KEYS: job, commits, gens. ARGV: split,
 * gen, the Commit (JSON), its token. Returns 'won' (this attempt's commit stands), 'lost'
 * (another attempt's does), 'stale' or 'gone'.
 */
export const COMMIT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 'gone' end
if (redis.call('HGET', KEYS[3], ARGV[1]) or '0') ~= ARGV[2] then return 'stale' end
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[3]) == 1 then return 'won' end
if cjson.decode(redis.call('HGET', KEYS[2], ARGV[1])).token == ARGV[4] then return 'won' end
return 'lost'`;

/** A split's commit withdrawn (its blocks were lost), and its generation set. KEYS: commits, gens. ARGV: split, gen. */
export const WITHDRAW = `
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1`;

/**
 * A gather task attempt's result recorded, unless one is already: KEYS: job, gathered. ARGV:
 * field, the Gathered (JSON), its token. Returns 'won', 'lost' or 'gone' (as COMMIT).
 */
export const GATHERED = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 'gone' end
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 1 then return 'won' end
if cjson.decode(redis.call('HGET', KEYS[2], ARGV[1])).token == ARGV[3] then return 'won' end
return 'lost'`;

/**
 * A worker's event appended, unless the job is gone: a late report must not leave the events
 * list behind an ended job. KEYS: job, events. ARGV: the event (JSON). Returns the list's length, or 0.
 */
export const REPORT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
return redis.call('RPUSH', KEYS[2], ARGV[1])`;
