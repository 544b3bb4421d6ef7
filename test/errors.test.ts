/**
 * The error classes: every one the package exports is a PartdError with a stable, unique
 * `code` (the table below is the reference: a code changes only with a major version), and an
 * error thrown in a worker thread reaches the caller as the same class, with its code and cause.
 */
import { describe, expect, it } from '@jest/globals';
import * as partd from '../src/index.js';
import * as errors from '../src/errors.js';
import { settle, unwrap } from '../src/shuffle/runtime/outcome.js';
import { fixture } from './support/child.js';

const { PartdError, groupBy, shuffle } = partd;

/** Every error class and its code. DtypeMismatchError and UnsendableError are TypeErrors too. */
const codes: Record<string, string> = {
  ClosedError: 'ERR_CLOSED',
  StoreKindError: 'ERR_STORE_KIND',
  CorruptFrameError: 'ERR_CORRUPT_FRAME',
  DtypeMismatchError: 'ERR_DTYPE_MISMATCH',
  BadRecordError: 'ERR_BAD_RECORD',
  StoreBusyError: 'ERR_STORE_BUSY',
  ShuffleError: 'ERR_SHUFFLE_FAILED',
  TaskTimeoutError: 'ERR_TASK_TIMEOUT',
  CommitConflict: 'ERR_COMMIT_CONFLICT',
  DiskFullError: 'ENOSPC',
  UnsendableError: 'ERR_PARTD_UNSENDABLE',
  WorkerOutOfMemoryError: 'ERR_WORKER_OUT_OF_MEMORY',
  WorkerFailedError: 'ERR_WORKER_FAILED',
  JoinMemoryError: 'ERR_JOIN_MEMORY',
  RedisUnreachableError: 'ERR_REDIS_UNREACHABLE',
  RedisOutOfMemoryError: 'ERR_REDIS_OOM',
  RedisAuthError: 'ERR_REDIS_AUTH',
  RedisWrongTypeError: 'ERR_REDIS_WRONGTYPE',
  RedisConnectionLostError: 'ERR_REDIS_CONNECTION_LOST',
  JobLostError: 'ERR_JOB_LOST',
  BlockLostError: 'ERR_BLOCK_LOST',
  NoWorkersError: 'ERR_NO_WORKERS',
  // the CLI's, not exported by the package
  UsageError: 'ERR_USAGE',
  PathError: 'ERR_PATH',
  StdoutClosedError: 'ERR_STDOUT_CLOSED',
};
const typeErrors = new Set(['DtypeMismatchError', 'UnsendableError']);
const cliOnly = new Set(['UsageError', 'PathError', 'StdoutClosedError']);

/** One instance of each class (a few constructors build their message from parts). */
const instances: Record<string, () => Error> = {
  ClosedError: () => new errors.ClosedError('get'),
  StoreKindError: () => new errors.StoreKindError('Lmdb', '/x', 'it is not a directory'),
  StoreBusyError: () => new errors.StoreBusyError('store: /x is in use', { pid: 1, host: 'h', since: 't' }),
};
const make = (name: string, options?: ErrorOptions): Error => {
  if (instances[name]) return instances[name]();
  const Class = (errors as unknown as Record<string, new (message: string, options?: ErrorOptions) => Error>)[name]!;
  return new Class(`a ${name}`, options);
};

/** The Error subclasses a module exports, by name. */
const errorClasses = (module: object) =>
  Object.entries(module)
    .filter(([, v]) => typeof v === 'function' && (v as { prototype?: unknown }).prototype instanceof Error)
    .map(([name]) => name);

describe('the error classes', () => {
  it('src/index.ts exports PartdError and every class of the table but the CLI ones', () => {
    expect(errorClasses(partd).sort()).toEqual(['PartdError', ...Object.keys(codes).filter((n) => !cliOnly.has(n))].sort());
  });

  it('src/errors.ts holds every class of the table, and no other', () => {
    expect(errorClasses(errors).sort()).toEqual(['PartdError', ...Object.keys(codes)].sort());
  });

  it('the codes are non-empty and unique', () => {
    const all = Object.values(codes);
    for (const code of all) expect(code).toMatch(/^[A-Z][A-Z_]+$/);
    expect(new Set(all).size).toBe(all.length);
  });

  it.each(Object.entries(codes))('%s is a PartdError with code %s', (name, code) => {
    const e = make(name);
    expect(e).toBeInstanceOf(Error);
    expect(e).toBeInstanceOf(PartdError);
    expect(e).toBeInstanceOf((errors as unknown as Record<string, new () => Error>)[name]!);
    expect(e.name).toBe(name);
    expect((e as partd.PartdError).code).toBe(code);
    expect(e instanceof TypeError).toBe(typeErrors.has(name));
    expect(`${e}`).toMatch(new RegExp(`^${name}: `));
  });

  it('instanceof PartdError is false for errors that are not ours, and a subclass check stays exact', () => {
    for (const e of [new Error('x'), new TypeError('x'), new RangeError('x'), Object.assign(new Error('x'), { code: 'ERR_CLOSED' })])
      expect(e).not.toBeInstanceOf(PartdError);
    expect(new partd.ClosedError('get')).not.toBeInstanceOf(partd.ShuffleError);
    expect(new partd.DtypeMismatchError('x')).not.toBeInstanceOf(partd.UnsendableError);
    expect(new partd.DtypeMismatchError('x')).not.toBeInstanceOf(partd.ClosedError);
  });

  it('the messages are as they were', () => {
    expect(new partd.ClosedError('get').message).toBe('get(): the store is closed');
    expect(new partd.StoreKindError('Lmdb', '/x', 'it is not a directory').message).toBe(
      'Lmdb: /x is not a Lmdb store (it is not a directory); refusing to adopt or overwrite it',
    );
    expect(new partd.StoreBusyError('busy', { pid: 1, host: 'h', since: 't' }).owner).toEqual({ pid: 1, host: 'h', since: 't' });
  });

  it.each(Object.keys(codes))('%s crosses a thread boundary as data with its class, code, message, stack and cause', async (name) => {
    const cause = Object.assign(new Error('the underlying cause'), { code: 'EIO' });
    const original = make(name, { cause });
    const back = await settle(async () => {
      throw original;
    }).then((bytes) => {
      try {
        return unwrap(bytes);
      } catch (e) {
        return e;
      }
    });
    expect(back).not.toBe(original);
    expect(back).toBeInstanceOf((errors as unknown as Record<string, new () => Error>)[name]!);
    expect(back).toBeInstanceOf(PartdError);
    expect(back).toMatchObject({ name, code: codes[name], message: original.message, stack: original.stack });
    // the constructors of ClosedError, StoreKindError and StoreBusyError take no cause
    if (!instances[name]) expect((back as Error).cause).toMatchObject({ name: 'Error', message: 'the underlying cause', code: 'EIO' });
  });
});

describe('errors thrown in worker threads', () => {
  const mods = fixture('errors-modules.mjs');
  const input = { generate: { module: mods, export: 'few' }, count: 2000 };

  it('a bad record (a key function that throws) arrives as a BadRecordError with its code', async () => {
    const run = groupBy({
      input: { generate: { module: fixture('shuffle-modules.mjs'), export: 'records' }, count: 100 },
      key: { module: fixture('shuffle-modules.mjs'), export: 'throwingKey' },
      workers: 1,
      aggregate: { n: { op: 'count' } },
    });
    const e = await run.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(partd.BadRecordError);
    expect(e).toMatchObject({
      name: 'BadRecordError',
      code: 'ERR_BAD_RECORD',
      message: 'split 0 (records 0..100) record 3: the key function threw: no key for id 3',
    });
  });

  it("one of ours thrown by the user's code in a gather task arrives as its class, with its code and its cause's name, message and code", async () => {
    await using h = await shuffle({ input, key: 'key', partitions: 8, workers: 2, splits: 2 });
    const e = await h.gather({ module: mods, export: 'diskFullAt2' }).catch((x: unknown) => x);
    // a full disk is not retried: the error itself, not a ShuffleError
    expect(e).toBeInstanceOf(partd.DiskFullError);
    expect(e).toMatchObject({ name: 'DiskFullError', code: 'ENOSPC', message: 'ENOSPC: no space left on device for the test' });
    const cause = (e as Error).cause;
    expect(cause).toBeInstanceOf(Error);
    expect(cause).toMatchObject({ name: 'Error', message: 'EIO: i/o error, write', code: 'EIO' });
  });

  it('one of ours thrown in a scatter session arrives as its class within the ShuffleError that gave up on the split', async () => {
    const e = await shuffle({
      input: { generate: { module: mods, export: 'corruptAt7' }, count: 100 },
      key: 'key',
      partitions: 4,
      workers: 1,
      retries: 0,
    }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(partd.ShuffleError);
    expect(e).toMatchObject({ code: 'ERR_SHUFFLE_FAILED' });
    expect((e as Error).message).toMatch(
      /^split \d+ \(records \d+\.\.\d+\) failed after 1 attempt \(attempt 1: key k7: bad frame header at byte 0\)$/,
    );
    const attempt = ((e as Error).cause as AggregateError).errors[0] as Error;
    expect(attempt).toBeInstanceOf(partd.CorruptFrameError);
    expect(attempt).toMatchObject({ name: 'CorruptFrameError', code: 'ERR_CORRUPT_FRAME' });
    expect(attempt.cause).toBeInstanceOf(RangeError);
    expect(attempt.cause).toMatchObject({ name: 'RangeError', message: 'offset out of range' });
  });

  it('a gather result that cannot cross threads is an UnsendableError, a TypeError', async () => {
    await using h = await shuffle({ input, key: 'key', partitions: 8, workers: 2, splits: 2 });
    const e = await h.gather({ module: fixture('failures-modules.mjs'), export: 'unsendableAt3' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(partd.UnsendableError);
    expect(e).toBeInstanceOf(TypeError);
    expect(e).toBeInstanceOf(PartdError);
    expect(e).toMatchObject({
      code: 'ERR_PARTD_UNSENDABLE',
      message:
        'partition 3: the gather reducer returned a value that cannot be sent between threads (an object (Foo) holding a function at .callback)',
    });
  });
});
