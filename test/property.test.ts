/** Property tests: random sequences of append/iset/delete/pop/drop agree with a model Map, for every store. */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { Dict, File, Lmdb, Spill, LZ4, tuple, type Key, type Partd } from '../src/index.js';
import { keyFromId, keyId } from '../src/extend.js';

const keyArb: fc.Arbitrary<Key> = fc.oneof(
  fc.constantFrom<Key>('a', 'b', '', 'a/b', 0, 1, tuple('a', 'b'), tuple('a')),
  fc.string({ maxLength: 4 }),
  fc.nat({ max: 5 }),
);
const bytesArb = fc.uint8Array({ maxLength: 24 });
type Op =
  | { op: 'append'; pairs: [Key, Uint8Array][] }
  | { op: 'iset'; key: Key; value: Uint8Array }
  | { op: 'delete'; keys: Key[] }
  | { op: 'pop'; keys: Key[] }
  | { op: 'drop' }
  | { op: 'get'; keys: Key[] };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({ op: fc.constant('append' as const), pairs: fc.array(fc.tuple(keyArb, bytesArb), { maxLength: 6 }) }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('iset' as const), key: keyArb, value: bytesArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), keys: fc.array(keyArb, { maxLength: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('pop' as const), keys: fc.array(keyArb, { maxLength: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('drop' as const) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('get' as const), keys: fc.array(keyArb, { maxLength: 4 }) }) },
);

const hex = (u: Uint8Array) => Buffer.from(u).toString('hex');

/**
 * `framed`: a layer frames every value, so appending empty bytes still makes the key exist;
 * in a raw store a key exists only while it holds bytes. `awaited` false: every call is made
 * before any is awaited, and each must still take effect in call order.
 */
async function check(store: Partd, ops: Op[], framed: boolean, awaited = true): Promise<void> {
  const model = new Map<string, string>(); // id → hex bytes
  const seen = new Set<string>();
  const pending: Promise<unknown>[] = [];
  const call = async <T>(p: Promise<T>, then: (v: T) => void = () => undefined) =>
    awaited ? then(await p) : void pending.push(p.then(then));
  const want = (keys: Key[]) => keys.map((k) => model.get(keyId(k)) ?? '');
  for (const o of ops) {
    switch (o.op) {
      case 'append':
        await call(store.append(o.pairs));
        for (const [k, v] of o.pairs) if (v.length || framed) model.set(keyId(k), (model.get(keyId(k)) ?? '') + hex(v));
        break;
      case 'iset':
        await call(store.iset(o.key, o.value));
        if (!seen.has(keyId(o.key))) {
          seen.add(keyId(o.key));
          if (o.value.length || framed) model.set(keyId(o.key), hex(o.value));
          else model.delete(keyId(o.key));
        }
        break;
      case 'delete':
        await call(store.delete(o.keys));
        for (const k of o.keys) (model.delete(keyId(k)), seen.delete(keyId(k)));
        break;
      case 'pop': {
        // a key listed twice yields its value the first time and nothing after
        const expected = o.keys.map((k) => {
          const v = model.get(keyId(k)) ?? '';
          model.delete(keyId(k));
          seen.delete(keyId(k));
          return v;
        });
        await call(store.pop(o.keys), (got) => expect(got.map(hex)).toEqual(expected));
        break;
      }
      case 'drop':
        await call(store.drop());
        model.clear();
        seen.clear();
        break;
      case 'get': {
        const expected = want(o.keys);
        await call(store.get(o.keys), (got) => expect(got.map(hex)).toEqual(expected));
      }
    }
  }
  await Promise.all(pending);
  const listed: string[] = [];
  for await (const k of store.keys()) listed.push(keyId(k));
  expect(listed.sort()).toEqual([...model.keys()].sort());
  const all = [...model.keys()].map(keyFromId);
  expect((await store.get(all)).map(hex)).toEqual(want(all));
}

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
