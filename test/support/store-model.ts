/**
 * A store against a model Map: random sequences of append/iset/delete/pop/drop/get (fast-check),
 * awaited one by one or all made at once, then the keys and values compared. Used by the
 * property tests of every store.
 */
import { expect } from '@jest/globals';
import fc from 'fast-check';
import { tuple, type Key, type Partd } from '../../src/index.js';
import { keyFromId, keyId } from '../../src/extend.js';

export const keyArb: fc.Arbitrary<Key> = fc.oneof(
  fc.constantFrom<Key>('a', 'b', '', 'a/b', 0, 1, tuple('a', 'b'), tuple('a')),
  fc.string({ maxLength: 4 }),
  fc.nat({ max: 5 }),
);
export const bytesArb = fc.uint8Array({ maxLength: 24 });
export type Op =
  | { op: 'append'; pairs: [Key, Uint8Array][] }
  | { op: 'iset'; key: Key; value: Uint8Array }
  | { op: 'delete'; keys: Key[] }
  | { op: 'pop'; keys: Key[] }
  | { op: 'drop' }
  | { op: 'get'; keys: Key[] };
export const opArb: fc.Arbitrary<Op> = fc.oneof(
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
export async function check(store: Partd, ops: Op[], framed: boolean, awaited = true): Promise<void> {
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
