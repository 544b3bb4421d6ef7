/** Every error this package raises on purpose, in one place. */

/** A call on a store after `close()`. */
export class ClosedError extends Error {
  override name = 'ClosedError';
  constructor(method: string) {
    super(`${method}(): the store is closed`);
  }
}

/** A path that exists but does not hold a store of the kind being opened. */
export class StoreKindError extends Error {
  override name = 'StoreKindError';
  constructor(kind: string, path: string, why: string) {
    super(`${kind}: ${path} is not a ${kind} store (${why}); refusing to adopt or overwrite it`);
  }
}

/** Stored bytes that an encoding layer cannot decode. */
export class CorruptFrameError extends Error {
  override name = 'CorruptFrameError';
}

/** A value's element type differs from the one its key already holds. */
export class DtypeMismatchError extends TypeError {
  override name = 'DtypeMismatchError';
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

/** A record that cannot be read or has no key; names the file and line where there is one. */
export class BadRecordError extends Error {
  override name = 'BadRecordError';
  /** Where the record is within its split, until the message names the file and line. */
  origin?: { position: number; offset?: number; split?: number };
}

/** A kept store that another job is running on: `owner` says which process, when known. */
export class StoreBusyError extends Error {
  override name = 'StoreBusyError';
  readonly code = 'ERR_STORE_BUSY';
  constructor(message: string, readonly owner?: { pid: number; host: string; since: string }) {
    super(message);
  }
}

/** A shuffle that failed: names the split (or partition) and keeps the worker's error as `cause`. */
export class ShuffleError extends Error {
  override name = 'ShuffleError';
}
