/** The CLI's counts: thousands marked as `toLocaleString('en-US')` marks them (the reference), without Intl. */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { grouped } from '../src/cli/progress.js';

describe('grouped', () => {
  it("marks thousands as toLocaleString('en-US') does, for any safe integer", () => {
    for (const n of [0, 1, 999, 1000, 999_999, 1_000_000, -1000, Number.MAX_SAFE_INTEGER])
      expect(grouped(n)).toBe(n.toLocaleString('en-US'));
    fc.assert(fc.property(fc.maxSafeInteger(), (n) => grouped(n) === n.toLocaleString('en-US')));
  });
});
