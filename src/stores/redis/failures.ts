/**
 * What the `Redis` store throws when Redis or the connection fails: one of the named errors of
 * errors.ts, its message naming the call, the server (without credentials) and what was or was
 * not applied. Runs in any thread.
 *
 * ioredis' own errors are never kept, not even as `cause`: they carry the command's arguments
 * (`err.command.args`), which are the password for AUTH and HELLO, and the data for a write.
 * Every message is scrubbed of the store's secrets besides.
 */
import {
  RedisAuthError,
  RedisConnectionLostError,
  RedisOutOfMemoryError,
  RedisUnreachableError,
  RedisWrongTypeError,
  type PartdError,
} from '../../errors.js';
import { keyFromId } from '../../keys.js';
import { CONNECTION_CLOSED, LOST } from './connection.js';

/** What a failure message says about the call. */
export interface FailureContext {
  /** The method: `append`, `get`… */
  method: string;
  /** The server, as `describeServer` names it. */
  server: string;
  /** Secrets no message may carry. */
  secrets: readonly string[];
  /** True for a write that was sent: a lost connection leaves its outcome unknown. */
  writes: boolean;
  /** The last connection error ioredis reported, if any. */
  lastError?: string | undefined;
  /** The key ids a WRONGTYPE reply of the write script counts from (1-based). */
  ids?: readonly string[];
  /** Said after the message: what of the call landed (a call in parts: a Cluster without a hash tag). */
  landed?: string;
}

/**
 * True when `e` means a command was on its way when its connection was lost (or a Cluster was
 * failing over): a read may be sent again. Not ioredis' MaxRetriesPerRequestError: that one
 * already waited through the reconnect attempts.
 */
export function isLost(e: unknown): boolean {
  return e === LOST || /^(Connection is closed\.|CLUSTERDOWN|TRYAGAIN)/.test(messageOf(e));
}

/** The store's error for `e` (an ioredis error, a Redis reply, or `LOST`), or a scrubbed `Error`. */
export function storeError(e: unknown, ctx: FailureContext): Error {
  const scrub = (s: string) => ctx.secrets.reduce((out, secret) => out.split(secret).join('***'), s);
  const at = `${ctx.method}: Redis at ${ctx.server}`;
  const landed = ctx.landed ? ` (${ctx.landed})` : '';
  const named = (Class: new (message: string) => PartdError, text: string) => new Class(scrub(text + landed));
  const nothing = ctx.landed ? "nothing of that primary's part was applied" : 'nothing of the call was applied';
  if (e === LOST || messageOf(e) === CONNECTION_CLOSED) {
    return ctx.writes
      ? named(
          RedisConnectionLostError,
          `${at}: the connection was lost before the reply; the write may or may not have been applied, so it was not sent again`,
        )
      : named(
          RedisUnreachableError,
          `${at} is unreachable: the connection was lost and not made again${ctx.lastError ? ` (${ctx.lastError})` : ''}`,
        );
  }
  const m = messageOf(e);
  if (/^OOM /.test(m)) return named(RedisOutOfMemoryError, `${at} is out of memory (maxmemory reached: ${m}); ${nothing}`);
  if (/^(NOAUTH|WRONGPASS|NOPERM)\b|invalid password|AUTH.*without any password/i.test(m)) {
    const what = /^NOPERM/.test(m) ? 'refused the call to this user (ACL)' : 'refused the credentials';
    return named(RedisAuthError, `${at} ${what}: ${firstSentence(m)}`);
  }
  if (/^WRONGTYPE/.test(m)) {
    const [, index, type] = /^WRONGTYPE (\d+) (\w+)$/.exec(m) ?? [];
    const id = index !== undefined ? ctx.ids?.[Number(index) - 1] : ctx.ids?.length === 1 ? ctx.ids[0] : undefined;
    const which =
      id !== undefined
        ? `key ${String(keyFromId(id))} is held in Redis as ${type ? `a ${type}` : 'another type'}, not a list`
        : 'a key of the call is held in Redis as another type than a list';
    return named(RedisWrongTypeError, `${at}: ${which}; ${nothing}`);
  }
  if (isUnreachable(e, m)) {
    const why = ctx.lastError ? ` (${ctx.lastError})` : '';
    return named(RedisUnreachableError, `${at} is unreachable${why}; nothing of the call was sent`);
  }
  return new Error(scrub(`${at} failed: ${m}${landed}`));
}

function isUnreachable(e: unknown, m: string): boolean {
  const code = (e as { code?: unknown })?.code;
  return (
    (e instanceof Error && (e.name === 'MaxRetriesPerRequestError' || e.name === 'ClusterAllFailedError')) ||
    (typeof code === 'string' && /^(ECONNREFUSED|ENOTFOUND|ETIMEDOUT|EHOSTUNREACH|ECONNRESET|EAI_AGAIN)$/.test(code)) ||
    /max retries per request|None of startup nodes|Cluster isn't ready|Failed to refresh slots cache|Cluster is ended|Connection is closed|CLUSTERDOWN/i.test(
      m,
    )
  );
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : typeof e === 'string' ? e : '';
}

/** Redis' HELLO error goes on for a paragraph: its first sentence says it. */
function firstSentence(m: string): string {
  const cut = m.search(/[.,](\s|$)/);
  return cut > 0 ? m.slice(0, cut) : m;
}
