/** Property tests: random sequences of append/iset/delete/pop/drop agree with a model Map, for every store. */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { Dict, File, Lmdb, Spill, LZ4, tuple, type Key, type Partd } from '../src/index.js';
import { keyFromId, keyId } from '../src/extend.js';
import { check, opArb } from './support/store-model.js';

const stores: [string, () => Partd, boolean][] = [
  ['Dict', () => new Dict(), false],
  ['File', () => new File(), false],
  ['Lmdb', () => new Lmdb(), false],
  ['Lmdb({ valueFiles: 1, valueFileMax: 64 })', () => new Lmdb(undefined, { valueFiles: 1, valueFileMax: 64 }), false],
  ['Spill(Dict, Lmdb, 40)', () => new Spill(new Dict(), new Lmdb(), 40), false],
  ['LZ4(Spill(Dict, File, 30))', () => new LZ4(new Spill(new Dict(), new File(), 30)), true],
];

describe.each([
  ['each call awaited', true, 60],
  ['no call awaited before the next is made', false, 40],
] as const)('stores agree with a model Map, %s', (_, awaited, numRuns) => {
  it.each(stores)('%s', async (_, make, framed) => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 30 }), async (ops) => {
        const store = make();
        try {
          await check(store, ops, framed, awaited);
        } finally {
          await store.close();
        }
      }),
      { numRuns },
    );
  });
});

describe('key ids', () => {
  const anyKey: fc.Arbitrary<Key> = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 6 }),
    fc.string({ unit: 'grapheme', maxLength: 6 }),
    fc.constantFrom('', '0', '"', '[', '~', '\0', '\ud800', 'a\0b'),
    fc.maxSafeNat(),
    fc
      .array(fc.oneof(fc.string({ unit: 'binary', maxLength: 4 }), fc.maxSafeNat()), { minLength: 1, maxLength: 3 })
      .map((items) => tuple(...items)),
  );
  it('round-trip, are distinct for distinct keys, and never hold NUL or start with ~', () => {
    fc.assert(
      fc.property(anyKey, anyKey, (a, b) => {
        const [ia, ib] = [keyId(a), keyId(b)];
        expect(keyFromId(ia)).toEqual(a);
        expect(ia.includes('\0') || ia.startsWith('~')).toBe(false);
        expect(ia === ib).toBe(String(a) === String(b) && typeof a === typeof b && JSON.stringify(a) === JSON.stringify(b));
      }),
      { numRuns: 3000 },
    );
  });
});
