/**
 * A sort's stored blocks and its radix sort, against references written here: a block reads
 * back as written (numeric columns, or general keys when a key is not numeric or the widths
 * differ), and `radixOrder` equals a comparison sort of the indexes by (columns, ordinal) on
 * random doubles of every kind (negative, -0, subnormal, huge, repeated), ascending and
 * descending, with blocks whose ordinals ascend or not.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { CorruptFrameError } from '../src/index.js';
import { unframe } from '../src/layers/frames.js';
import { framer } from '../src/shuffle/scatter/outbox.js';
import { blockFrame, keysOf, readBlock } from '../src/shuffle/sort/block.js';
import { radixOrder } from '../src/shuffle/sort/radix.js';

const payloadOf = (frame: Uint8Array) => unframe(frame, 'test')[0]!;

describe('sort blocks', () => {
  const records = [{ a: 1 }, 'two', [3], null];
  const ords = [7, 2 ** 40 + 3, 5, 2 ** 52];
  it.each([
    ['numbers', [3, -0.5, 1e300, -2]],
    [
      'numeric pairs',
      [
        [1, 2],
        [1, -1],
        [0, 9],
        [5, 5],
      ],
    ],
    ['strings', ['b', 'a', '\u{1F600}', '']],
    ['mixed widths', [1, [1, 2], [3, 4], 2]],
    ['mixed types', [[1, 'x'], 2, 'y', [0]]],
    ['numeric tuples wider than the header holds', Array.from({ length: 4 }, (_, i) => Array.from({ length: 300 }, (_, j) => i * j))],
  ])('read back as written: %s', (_, keys) => {
    const block = readBlock(payloadOf(blockFrame(records, ords, keys)), 'test');
    expect(block.n).toBe(4);
    expect(Array.from(block.ords)).toEqual(ords);
    expect(keysOf(block)).toEqual(keys);
    expect(framer.decode(block.records)).toEqual(records);
    const numeric =
      keys.every((k) => typeof k === 'number') ||
      keys.every((k) => Array.isArray(k) && k.length === 2 && k.every((v) => typeof v === 'number'));
    expect('columns' in block.keys).toBe(numeric);
  });

  it('an empty block, and a block cut short, which fails naming it', () => {
    expect(readBlock(payloadOf(blockFrame([], [], [])), 'test').n).toBe(0);
    const payload = payloadOf(blockFrame(records, ords, [1, 2, 3, 4]));
    expect(() => readBlock(payload.subarray(0, 40), 'key 3')).toThrow(CorruptFrameError);
    expect(() => readBlock(payload.subarray(0, 40), 'key 3')).toThrow(/key 3: not a sort block/);
    expect(() => readBlock(payload.subarray(0, 5), 'key 3')).toThrow(/key 3: not a sort block/);
  });
});

/** The reference: indexes sorted by comparing the columns (descending: each reversed), then the ordinal ascending. */
function referenceOrder(columns: number[][], ords: number[], descending: boolean): number[] {
  const d = descending ? -1 : 1;
  return ords
    .map((_, i) => i)
    .sort((i, j) => {
      for (const c of columns) if (c[i]! !== c[j]!) return c[i]! < c[j]! ? -d : d; // -0 === 0: a tie
      return ords[i]! - ords[j]!;
    });
}

const value = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -0, 5e-324, -5e-324, Number.MAX_VALUE, -Number.MAX_VALUE, 1, -1, 2 ** 52, 0.1),
  fc.integer({ min: -5, max: 5 }),
);

describe('radixOrder equals a comparison sort (fast-check)', () => {
  it('any columns, ordinals in blocks that ascend or not, either direction', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 3 })
          .chain((width) => fc.array(fc.array(value, { minLength: width, maxLength: width }), { maxLength: 600 })),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 1, max: 64 }),
        fc.integer(),
        (rows, descending, ascendingBlocks, blockSize, seed) => {
          const n = rows.length;
          const width = rows[0]?.length ?? 1;
          const columns = Array.from({ length: width }, (_, c) => rows.map((r) => r[c]!));
          // ordinals: split · 2^32 + position, unique; blocks of ascending ones stored in a shuffled order, or shuffled outright
          let ords = Array.from({ length: n }, (_, i) => Math.floor(i / 100) * 2 ** 32 + (i % 100));
          const starts = Array.from({ length: Math.ceil(n / blockSize) }, (_, b) => b * blockSize);
          let x = seed >>> 0;
          const random = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32;
          if (ascendingBlocks) {
            const blocks = starts.map((s) => ords.slice(s, s + blockSize)).sort(() => random() - 0.5);
            ords = blocks.flat();
          } else ords.sort(() => random() - 0.5);
          const got = radixOrder(
            columns.map((c) => Float64Array.from(c)),
            Float64Array.from(ords),
            descending,
            starts,
          );
          expect(Array.from(got)).toEqual(referenceOrder(columns, ords, descending));
        },
      ),
      { numRuns: 300 },
    );
  });
});
