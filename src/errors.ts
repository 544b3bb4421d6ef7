/**
 * Every error class this package throws on purpose, each with a stable `code` (the table in
 * docs/errors.md; test/errors.test.ts holds the reference), and how an error that crossed
 * threads as data is rebuilt into its class (`errorFromData`). Bad arguments stay plain
 * `TypeError`s and `RangeError`s without a code.
 */

/**
 * The base of the package's errors. `code` is stable across versions: match on it (or on the
 * class), not on the message. `DtypeMismatchError` and `UnsendableError` are `TypeError`s (a
 * value of the wrong type, as Node's own coded errors are) and pass `instanceof PartdError`
 * all the same.
 */
export abstract class PartdError extends Error {
  abstract readonly code: string;

  static override [Symbol.hasInstance]<T>(this: abstract new (...args: never[]) => T, value: unknown): value is T {
    const ordinary = Function.prototype[Symbol.hasInstance].call(this, value);
    if ((this as unknown) !== PartdError) return ordinary; // a subclass: the ordinary prototype check
    return ordinary || value instanceof DtypeMismatchError || value instanceof UnsendableError;
  }
}

/** A call on a store after `close()`. */
export class ClosedError extends PartdError {
  override name = 'ClosedError';
  readonly code = 'ERR_CLOSED';
  constructor(method: string) {
    super(`${method}(): the store is closed`);
  }
}

/** A path that exists but does not hold a store of the kind being opened. */
export class StoreKindError extends PartdError {
  override name = 'StoreKindError';
  readonly code = 'ERR_STORE_KIND';
  constructor(kind: string, path: string, why: string) {
    super(`${kind}: ${path} is not a ${kind} store (${why}); refusing to adopt or overwrite it`);
  }
}

/** Stored bytes that an encoding layer cannot decode. */
export class CorruptFrameError extends PartdError {
  override name = 'CorruptFrameError';
  readonly code = 'ERR_CORRUPT_FRAME';
}

/** A value's element type differs from the one its key already holds: a `TypeError`. */
export class DtypeMismatchError extends TypeError {
  override name = 'DtypeMismatchError';
  readonly code = 'ERR_DTYPE_MISMATCH';
}

/** A record that cannot be read or has no key; names the file and line where there is one. */
export class BadRecordError extends PartdError {
  override name = 'BadRecordError';
  readonly code = 'ERR_BAD_RECORD';
  /** Where the record is within its split, until the message names the file and line. */
  origin?: { position: number; offset?: number; split?: number };
}

/** A kept store that another job is running on: `owner` says which process, when known. */
export class StoreBusyError extends PartdError {
  override name = 'StoreBusyError';
  readonly code = 'ERR_STORE_BUSY';
  constructor(
    message: string,
    readonly owner?: { pid: number; host: string; since: string },
  ) {
    super(message);
  }
}

/** A shuffle that failed: names the split (or partition) and keeps the worker's error as `cause`. */
export class ShuffleError extends PartdError {
  override name = 'ShuffleError';
  readonly code = 'ERR_SHUFFLE_FAILED';
}

/** A task that outlived its timeout; its worker was terminated. */
export class TaskTimeoutError extends PartdError {
  override name = 'TaskTimeoutError';
  readonly code = 'ERR_TASK_TIMEOUT';
}

/** A commit refused by its guard: a stale attempt, or a part already there. */
export class CommitConflict extends PartdError {
  override name = 'CommitConflict';
  readonly code = 'ERR_COMMIT_CONFLICT';
}

/** A write that failed on a (nearly) full file system; `cause` is the write's own error. */
export class DiskFullError extends PartdError {
  override name = 'DiskFullError';
  /** Node's code for a full disk, so one check (`code === 'ENOSPC'`) covers this and a raw fs error. */
  readonly code = 'ENOSPC';
}

/** A task result that cannot be sent between threads (a function, a symbol…): a `TypeError`, never retried. */
export class UnsendableError extends TypeError {
  override name = 'UnsendableError';
  readonly code = 'ERR_PARTD_UNSENDABLE';
}

/** A worker thread that ran out of memory (the message gives the heap limit); `cause` is Node's error. */
export class WorkerOutOfMemoryError extends PartdError {
  override name = 'WorkerOutOfMemoryError';
  /** Node's code for it, which this error kept before it had a class. */
  readonly code = 'ERR_WORKER_OUT_OF_MEMORY';
}

/** A worker thread that failed outside any task, which ends the job; `cause` is the thread's error. */
export class WorkerFailedError extends PartdError {
  override name = 'WorkerFailedError';
  readonly code = 'ERR_WORKER_FAILED';
}

/**
 * A join partition that stays larger than a task's memory share after every re-split (grace
 * hash join): a key with that many rows on both sides. Deterministic: never retried.
 */
export class JoinMemoryError extends PartdError {
  override name = 'JoinMemoryError';
  readonly code = 'ERR_JOIN_MEMORY';
}

/**
 * A Redis server (or every node of a Cluster) that cannot be reached: refused, timed out, not
 * found, or still down after the reconnect attempts (`maxRetriesPerRequest`). Nothing of the call
 * was sent, so nothing of it was applied. Names the server without credentials.
 */
export class RedisUnreachableError extends PartdError {
  override name = 'RedisUnreachableError';
  readonly code = 'ERR_REDIS_UNREACHABLE';
}

/** A write refused by Redis at its `maxmemory` (policy `noeviction`): nothing of the call was applied. */
export class RedisOutOfMemoryError extends PartdError {
  override name = 'RedisOutOfMemoryError';
  readonly code = 'ERR_REDIS_OOM';
}

/** A Redis server that refused the credentials (AUTH), or an ACL user without the permission a call needs. */
export class RedisAuthError extends PartdError {
  override name = 'RedisAuthError';
  readonly code = 'ERR_REDIS_AUTH';
}

/** A Redis key of the store's that holds another type than the store writes (a string, a hash…): nothing of the call was applied. */
export class RedisWrongTypeError extends PartdError {
  override name = 'RedisWrongTypeError';
  readonly code = 'ERR_REDIS_WRONGTYPE';
}

/**
 * The connection to Redis lost while a write was on its way, before its reply: the write may or
 * may not have been applied, so it is reported rather than sent again. (Reads are retried.)
 */
export class RedisConnectionLostError extends PartdError {
  override name = 'RedisConnectionLostError';
  readonly code = 'ERR_REDIS_CONNECTION_LOST';
}

/**
 * A distributed job whose records Redis no longer holds (a server restarted empty, a flush, an
 * expiry): the job fails, and nothing of it is returned.
 */
export class JobLostError extends PartdError {
  override name = 'JobLostError';
  readonly code = 'ERR_JOB_LOST';
}

/**
 * A distributed job's block (a split's output for a partition) found missing or corrupt at
 * gather more often than the split may be re-run: the job fails rather than return a wrong result.
 */
export class BlockLostError extends PartdError {
  override name = 'BlockLostError';
  readonly code = 'ERR_BLOCK_LOST';
}

/** A distributed job with no `partd worker` listening on its queue. */
export class NoWorkersError extends PartdError {
  override name = 'NoWorkersError';
  readonly code = 'ERR_NO_WORKERS';
}

/** The CLI's bad usage: exit status 2. */
export class UsageError extends PartdError {
  override name = 'UsageError';
  readonly code = 'ERR_USAGE';
}

/** A missing or unusable file or directory named on the CLI's command line: exit status 1. */
export class PathError extends PartdError {
  override name = 'PathError';
  readonly code = 'ERR_PATH';
}

/** The reader of the CLI's stdout closed it (`partd … | head -1`): the job stops, and partd exits 0. */
export class StdoutClosedError extends PartdError {
  override name = 'StdoutClosedError';
  readonly code = 'ERR_STDOUT_CLOSED';
}

/** An error as data, the form in which it crosses threads: its cause one level deep. */
export interface ErrorData {
  name: string;
  message: string;
  stack?: string;
  code?: string;
  cause?: ErrorData;
}

/** The classes `errorFromData` rebuilds, by name: every one above. */
const classes = new Map<string, new (...args: never[]) => Error>(
  Object.entries({
    ClosedError,
    StoreKindError,
    CorruptFrameError,
    DtypeMismatchError,
    BadRecordError,
    StoreBusyError,
    ShuffleError,
    TaskTimeoutError,
    CommitConflict,
    DiskFullError,
    UnsendableError,
    WorkerOutOfMemoryError,
    WorkerFailedError,
    JoinMemoryError,
    RedisUnreachableError,
    RedisOutOfMemoryError,
    RedisAuthError,
    RedisWrongTypeError,
    RedisConnectionLostError,
    JobLostError,
    BlockLostError,
    NoWorkersError,
    UsageError,
    PathError,
    StdoutClosedError,
  }),
);

/** The built-in classes rebuilt as themselves; any other name is an `Error` of that name. */
const builtins = new Map<string, new (message: string, options?: ErrorOptions) => Error>([
  ['TypeError', TypeError],
  ['RangeError', RangeError],
]);

/**
 * The error `data` describes, as its class when it is one of ours (or a TypeError or
 * RangeError), with its message, `code`, stack and `cause` (rebuilt the same way).
 */
export function errorFromData(data: ErrorData): Error {
  const cause = data.cause && errorFromData(data.cause);
  const options = cause ? { cause } : undefined;
  const Ours = classes.get(data.name);
  let err: Error;
  if (Ours) {
    // Error's constructor on Ours' prototype: the message is built already (ClosedError's
    // constructor would build it again from a method name); name and code are set below.
    err = Reflect.construct(Error, [data.message, options], Ours) as Error;
    err.name = data.name;
  } else {
    err = new (builtins.get(data.name) ?? Error)(data.message, options);
    if (err.name !== data.name) err.name = data.name;
  }
  if (data.code !== undefined) Object.assign(err, { code: data.code });
  if (data.stack) err.stack = data.stack;
  return err;
}

/** Describes a value for an error message without dumping it. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === 'object') return `an object (${value.constructor?.name ?? 'Object'})`;
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`;
  return `${typeof value} ${String(value)}`;
}
