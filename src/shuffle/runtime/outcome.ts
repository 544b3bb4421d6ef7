/**
 * A task's outcome as data. A worker returns its outcome serialised (v8.serialize, the
 * algorithm postMessage uses) into bytes that move to the coordinator without a copy: a value
 * that cannot cross threads then fails in the worker, where it can be named, instead of in
 * Piscina's postMessage, which killed the worker with an error that reached the caller as
 * "[object Object]". Errors keep their class (errors.ts rebuilds it by name), message, string
 * `code` and `cause` (its name, message and code).
 */
import v8 from 'node:v8';
import { UnsendableError, describe, errorFromData, type ErrorData } from '../../errors.js';

/** What a worker task returns, before it is serialised. */
export type Outcome<T> = { ok: true; value: T } | ({ ok: false } & ErrorData);

/** A thrown value as an Error; a value that is not one gets a message saying what it was. */
export function asError(e: unknown): Error {
  if (e instanceof Error) return e;
  if (typeof e === 'string') return new Error(e);
  const like = e as { name?: unknown; message?: unknown; code?: unknown } | null;
  // error-like objects: a DOMException of another realm, an error a dying thread serialised
  if (like && typeof like === 'object' && typeof like.message === 'string' && like.message !== '') {
    return errorFromData({
      name: typeof like.name === 'string' ? like.name : 'Error',
      message: like.message,
      ...(typeof like.code === 'string' ? { code: like.code } : {}),
    });
  }
  return new Error(`a worker threw a value that is not an Error: ${shown(e)}`);
}

/** A short rendering of a value: JSON when it has one, else its description. */
function shown(value: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    // a cycle or a BigInt: described instead
  }
  if (json === undefined || (typeof value === 'object' && value !== null && json === '{}' && value.constructor !== Object))
    return describeValue(value);
  return json.length > 200 ? json.slice(0, 200) + '…' : json;
}

/** `e` as data; its cause as name, message and code (its own cause and stack are not kept). */
export function errorData(e: unknown, withCause = true): ErrorData {
  const err = asError(e);
  const code = (err as { code?: unknown }).code;
  const data: ErrorData = withCause ? { name: err.name, message: err.message, stack: err.stack } : { name: err.name, message: err.message };
  if (typeof code === 'string') data.code = code;
  if (withCause && err.cause !== undefined) data.cause = errorData(err.cause, false);
  return data;
}

/**
 * Runs `fn` and serialises its outcome. When its value cannot be serialised, `unsendable`
 * (given the value) says why, as the error the task fails with.
 */
export async function settle<T>(fn: () => Promise<T>, unsendable?: (value: T) => Error): Promise<Uint8Array> {
  let outcome: Outcome<T>;
  try {
    outcome = { ok: true, value: await fn() };
  } catch (e) {
    return serialized({ ok: false, ...errorData(e) });
  }
  try {
    return serialized(outcome);
  } catch (e) {
    const why =
      unsendable?.(outcome.value) ??
      sendError(`the task's result cannot be sent between threads (${whyUnsendable(outcome.value) ?? asError(e).message})`);
    return serialized({ ok: false, ...errorData(why) });
  }
}

/** `value` serialised into bytes that own their whole ArrayBuffer, so moving it to another thread moves nothing else. */
function serialized(value: Outcome<unknown>): Uint8Array {
  const bytes = v8.serialize(value);
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes);
}

/** The error of a result that cannot be sent between threads (deterministic: not retried). */
export function sendError(message: string): Error {
  return new UnsendableError(message);
}

/** Whether `value` can be sent between threads. */
export function sendable(value: unknown): boolean {
  try {
    v8.serialize(value);
    return true;
  } catch {
    return false;
  }
}

/** The value of a serialised Outcome, or its error rebuilt (one of ours, a TypeError or a RangeError stays one). */
export function unwrap<T>(bytes: Uint8Array): T {
  const outcome = v8.deserialize(bytes) as Outcome<T>;
  if (outcome.ok) return outcome.value;
  throw errorFromData(outcome);
}

/** What in `value` cannot be sent between threads, e.g. "an object (Foo) holding a function at .callback"; undefined if all can. */
export function whyUnsendable(value: unknown): string | undefined {
  const top = describeValue(value);
  const found = culprit(value, '', new Set(), 0);
  if (found === undefined) return undefined;
  return found.path === '' ? found.what : `${top} holding ${found.what} at ${found.path}`;
}

/** A value as an error message names it (a function or a symbol by its kind alone). */
function describeValue(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a symbol';
  return describe(value);
}

const MAX_DEPTH = 64;

/** The first part of `value` that cannot be serialised, depth first, and where it is. */
function culprit(value: unknown, at: string, seen: Set<object>, depth: number): { what: string; path: string } | undefined {
  if (typeof value === 'function' || typeof value === 'symbol') return { what: describeValue(value), path: at };
  if (value === null || typeof value !== 'object' || seen.has(value) || depth > MAX_DEPTH) return undefined;
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof Date || value instanceof RegExp) return undefined;
  seen.add(value);
  const children: [string, unknown][] =
    value instanceof Map
      ? [...value].flatMap(([k, v], i): [string, unknown][] => [
          [`<Map key ${i}>`, k],
          [`.get(${shown(k)})`, v],
        ])
      : value instanceof Set
        ? [...value].map((v, i): [string, unknown] => [`<Set item ${i}>`, v])
        : Object.keys(value).map((k): [string, unknown] => [
            Array.isArray(value) ? `[${k}]` : /^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`,
            (value as Record<string, unknown>)[k],
          ]);
  for (const [step, child] of children) {
    const found = culprit(child, at + step, seen, depth + 1);
    if (found) return found;
  }
  // A container whose parts all pass can be sent; an object with no parts may be one that
  // cannot (a WeakMap, a Promise, a host object): only such leaves are tried, each alone.
  if (children.length > 0 || sendable(value)) return undefined;
  return { what: describeValue(value), path: at };
}
