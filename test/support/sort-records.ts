/**
 * Records with sort keys of every kind, made from their index — by the workers (compiled, as a
 * `generate` or `make` input and key modules) and by the tests (the reference): numbers with many
 * repeats and fractions, strings around the code-point traps (astral characters against
 * U+E000..U+FFFF), tuples of both, and numbers and strings mixed.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** This module compiled, as the workers import it. */
export const SORT_RECORDS = path.join(
  path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'test', 'support'),
  'sort-records.js',
);

const STRINGS = ['', 'a', 'b', 'ab', 'é', '\uD7FF', '\uE000', '\uFFFF', '\u{10000}', '\u{1F600}', 'a\u{1F600}', 'a\uFFFF', '\u{10FFFF}'];

/** Record i: `k` a number, a string, a tuple, or a fraction, by a hash of i. */
export function mixedRecord(i: number): { id: number; k: number | string | (number | string)[] } {
  const h = Math.imul(i ^ 0x5bd1e995, 2654435761) >>> 0;
  const s = STRINGS[h % STRINGS.length]!;
  switch ((h >>> 8) % 4) {
    case 0:
      return { id: i, k: (h % 17) - 8 };
    case 1:
      return { id: i, k: s };
    case 2:
      return { id: i, k: [(h >>> 4) % 3, s] };
    default:
      return { id: i, k: ((h % 1000) - 500) / 7 };
  }
}

/** Records [start, end). */
export function* mixed(start: number, end: number): Generator<ReturnType<typeof mixedRecord>> {
  for (let i = start; i < end; i++) yield mixedRecord(i);
}

/** A key module: the tuple (k's type name, id mod 5). */
export const typeThenId = (r: { id: number; k: unknown }) => [typeof r.k, r.id % 5];
