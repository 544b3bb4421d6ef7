/**
 * Keys: a string, a non-negative safe integer, or a `Tuple` of those.
 *
 * Inside the package every key travels as its *id*, a canonical string told apart by its
 * first character: a number is its digits, a tuple is a JSON array (`[`), a string that is
 * empty, starts with a digit, `"`, `[` or `~`, or holds a NUL or a lone surrogate (no exact
 * UTF-8 form) is its JSON (`"`, with `\uXXXX` escapes), and any other string is
 * itself — so the common case costs nothing and Map lookups reuse the caller's strings.
 * `'1'`, `1`, `tuple('1')` and `'["1"]'` get four different ids; ids starting with `~` are
 * reserved for layer metadata. Ids never contain NUL, so stores may use it as a separator.
 */
import { describe } from './errors.js';

/** One element of a tuple key. */
export type KeyPart = string | number;

/** A tuple key, made with {@link tuple}. Plain arrays are lists of keys, never keys. */
export class Tuple {
  /** The elements, in order. */
  readonly items: readonly KeyPart[];
  constructor(items: readonly KeyPart[]) {
    if (items.length === 0) throw new RangeError('tuple(): a tuple key needs at least one element');
    items.forEach((item, i) => checkPart(item, `tuple() element ${i}`));
    this.items = Object.freeze([...items]);
  }
  /** Number of elements. */
  get length(): number {
    return this.items.length;
  }
  [Symbol.iterator](): Iterator<KeyPart> {
    return this.items[Symbol.iterator]();
  }
  toString(): string {
    return `tuple(${this.items.map((x) => JSON.stringify(x)).join(', ')})`;
  }
}

/** A key: string, non-negative safe integer, or tuple. */
export type Key = string | number | Tuple;

/** A key or a (nested) list of keys, as `get`, `delete` and `pop` take. */
export type Keys = Key | KeyList;
/** A list of keys; lists may nest. */
export type KeyList = readonly Keys[];

/** Makes a tuple key: `tuple('a', 1)`. Tuple keys round-trip as tuples. */
export function tuple(...items: KeyPart[]): Tuple {
  return new Tuple(items);
}

function checkPart(part: unknown, arg: string): asserts part is KeyPart {
  if (typeof part === 'string') return;
  if (typeof part === 'number') {
    if (!Number.isSafeInteger(part) || part < 0 || Object.is(part, -0)) {
      throw new RangeError(`${arg}: a number key must be a non-negative safe integer, got ${part}`);
    }
    return;
  }
  if (part instanceof Tuple) throw new TypeError(`${arg}: tuples do not nest`);
  if (Array.isArray(part)) {
    throw new TypeError(`${arg}: a plain array is not a key; use tuple(...) for a tuple key`);
  }
  throw new TypeError(`${arg}: a key is a string, a non-negative integer or a tuple(), got ${describe(part)}`);
}

/** The canonical id of a key; throws a TypeError/RangeError naming `arg` for a bad key. */
export function keyId(key: unknown, arg = 'key'): string {
  if (typeof key === 'string')
    return needsQuotes(key.charCodeAt(0)) || key.includes('\0') || !key.isWellFormed() ? JSON.stringify(key) : key;
  if (key instanceof Tuple) return JSON.stringify(key.items);
  checkPart(key, arg);
  return String(key);
}

/** First characters that a bare string id may not have (NaN: the empty string). */
function needsQuotes(c: number): boolean {
  return Number.isNaN(c) || (c >= 0x30 && c <= 0x39) || c === 0x22 || c === 0x5b || c === 0x7e;
}

/** The key back from its id. */
export function keyFromId(id: string): Key {
  const c = id.charCodeAt(0);
  if (c === 0x22) return JSON.parse(id) as string;
  if (c === 0x5b) return new Tuple(JSON.parse(id) as KeyPart[]);
  if (c >= 0x30 && c <= 0x39) return Number(id);
  return id;
}

/** True for ids reserved for layer metadata (never user keys). */
export function isMetaId(id: string): boolean {
  return id.charCodeAt(0) === 0x7e; // '~'
}

/** A nested list's shape: a leaf index into the flat list, or a list of shapes. */
export type Shape = number | Shape[];

/** Flattens a key or nested key list into ids; returns the shape to rebuild the nesting. */
export function flattenKeys(keys: unknown, ids: string[], arg = 'keys'): Shape {
  if (Array.isArray(keys)) return keys.map((k, i) => flattenKeys(k, ids, `${arg}[${i}]`));
  ids.push(keyId(keys, arg));
  return ids.length - 1;
}

/** Rebuilds values in the nesting of `shape`. */
export function unflatten<T>(shape: Shape, values: readonly T[]): unknown {
  return typeof shape === 'number' ? values[shape] : shape.map((s) => unflatten(s, values));
}
