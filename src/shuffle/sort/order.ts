/**
 * The order of sort keys, in both threads (the coordinator picks splitters with it, scatter
 * workers partition by it, gather workers sort by it); docs/sort.md gives the rules:
 *
 * - a key is a finite number, a string, or a non-empty array of them (a tuple), compared
 *   element by element, a shorter prefix first; a scalar compares as the 1-tuple of itself;
 * - numbers before strings at any position (so mixed keys still have one total order);
 * - strings by Unicode code point (UTF-8 byte order). JavaScript's `<` compares UTF-16 code
 *   units, which differs for astral characters (surrogates) against U+E000..U+FFFF: such
 *   strings are first mapped to a *collation string* whose code-unit order is the code-point
 *   order (`collated`), once per key, so every comparison stays a native `<`;
 * - ties broken by the record's ordinal (split · 2^32 + position): input order, so the sort is
 *   stable, and a key held by many records still spreads over several partitions.
 */
/** A sort key: a number, a string, or a tuple of them. */
export type SortKey = number | string | (number | string)[];

/** A point of the order: a key and an ordinal (a splitter, or a record's place). */
export type SortPoint = [key: SortKey, ord: number];

/** Code units at or above U+D800: only strings holding one can sort differently by code point. */
const HIGH = /[\uD800-\uFFFF]/;
const HIGH_ALL = /[\uD800-\uFFFF]/g;

/** Surrogates (U+D800..U+DFFF) move above U+E000..U+FFFF, which move down: a bijection on code units. */
const shift = (c: string) => {
  const u = c.charCodeAt(0);
  return String.fromCharCode(u >= 0xe000 ? u - 0x800 : u + 0x2000);
};

/** The string whose UTF-16 order is `s`'s code-point order (itself unless it holds a unit ≥ U+D800). */
export function collatedString(s: string): string {
  return HIGH.test(s) ? s.replace(HIGH_ALL, shift) : s;
}

/** A key as it is compared: its strings collated (the same value when nothing changes, so no copy). */
export function collated(key: SortKey): SortKey {
  if (typeof key === 'string') return collatedString(key);
  if (typeof key === 'number') return key;
  let out: (number | string)[] | undefined;
  for (let i = 0; i < key.length; i++) {
    const v = key[i]!;
    if (typeof v !== 'string') continue;
    const c = collatedString(v);
    if (c !== v) (out ??= key.slice())[i] = c;
  }
  return out ?? key;
}

function compareScalars(a: number | string, b: number | string): number {
  if (typeof a === typeof b) return a < b ? -1 : a > b ? 1 : 0;
  return typeof a === 'number' ? -1 : 1;
}

/** Compares two collated keys: negative, 0 or positive. */
export function compareKeys(a: SortKey, b: SortKey): number {
  const ta = typeof a;
  if (ta !== 'object' && typeof b !== 'object') {
    if (ta === typeof b) return a < b ? -1 : a > b ? 1 : 0;
    return ta === 'number' ? -1 : 1;
  }
  const x = typeof a === 'object' ? a : [a];
  const y = typeof b === 'object' ? b : [b];
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const c = compareScalars(x[i]!, y[i]!);
    if (c !== 0) return c;
  }
  return x.length - y.length;
}

/** Compares (collated key, ordinal) points; `dir` is -1 for a descending sort (ties stay in input order). */
export function comparePoints(dir: 1 | -1, ka: SortKey, oa: number, kb: SortKey, ob: number): number {
  const c = compareKeys(ka, kb);
  return c !== 0 ? dir * c : oa - ob;
}

/** The width of keys that are all numbers (1) or all arrays of `width` numbers (a number counting as its 1-tuple); 0 otherwise. */
export function numericWidth(keys: readonly SortKey[]): number {
  let width = -1;
  for (const k of keys) {
    const w = typeof k === 'number' ? 1 : Array.isArray(k) && k.every((v) => typeof v === 'number') ? k.length : 0;
    if (w === 0 || (width !== -1 && w !== width)) return 0;
    width = w;
  }
  return Math.max(width, 0);
}

/**
 * The partition of a record among the ranges the splitters cut: the number of splitters at or
 * before its point (a binary search), so partition p holds the points in (splitter p-1, splitter p].
 * When every splitter is a number or a numeric tuple of one width, a record's key of that shape
 * is compared as numbers (columns of the splitters), with no collation; any other key goes the
 * general way, which orders the same.
 */
export function rangePartitioner(splitters: readonly SortPoint[], descending: boolean): (key: SortKey, ord: number) => number {
  const dir = descending ? -1 : 1;
  const keys = splitters.map(([k]) => collated(k));
  const ords = splitters.map(([, o]) => o);
  const general = (key: SortKey, ord: number) => {
    const k = collated(key);
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (comparePoints(dir, keys[mid]!, ords[mid]!, k, ord) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const width = numericWidth(keys);
  if (width === 0) return general;
  const columns = Array.from({ length: width }, (_, c) =>
    Float64Array.from(keys, (k) => (typeof k === 'number' ? k : (k as number[])[c]!)),
  );
  const ordinals = Float64Array.from(ords);
  const numeric = (key: SortKey): boolean => {
    if (typeof key === 'number') return width === 1;
    if (!Array.isArray(key) || key.length !== width) return false;
    for (let c = 0; c < width; c++) if (typeof key[c] !== 'number') return false;
    return true;
  };
  return (key, ord) => {
    if (!numeric(key)) return general(key, ord);
    let lo = 0;
    let hi = ordinals.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      let d = 0;
      for (let c = 0; c < width && d === 0; c++) d = columns[c]![mid]! - (typeof key === 'number' ? key : (key[c] as number));
      if ((d !== 0 ? dir * d : ordinals[mid]! - ord) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}
