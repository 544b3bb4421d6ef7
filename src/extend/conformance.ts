/**
 * The conformance suite (abstract-level's way): one function over a store factory that every
 * store and every layer-over-store of this package runs, exported for people who write their
 * own. It covers Python partd's own tests (test_dict, test_file, test_partd, test_encode,
 * test_compressed, test_numpy's shared behaviour) and this package's interface: key kinds,
 * nested get, iset, delete, pop, drop, close, iterate, keys, and bad input that must leave
 * stored data intact. It runs on the test framework it is given (jest's or vitest's globals).
 */
import { ClosedError } from '../errors.js';
import { tuple, type Key } from '../keys.js';
import type { Partd } from '../partd.js';

/** The matchers the suite uses, as jest and vitest provide them. */
export interface Matchers {
  toBe(expected: unknown): void;
  toEqual(expected: unknown): void;
  toThrow(expected?: unknown): void;
  rejects: { toThrow(expected?: unknown): Promise<void> };
}

/** The test framework the suite runs on: `import { describe, it, expect } from '@jest/globals'` (or vitest). */
export interface TestApi {
  describe(name: string, fn: () => void): void;
  it(name: string, fn: () => Promise<unknown> | void): void;
  expect(actual: unknown): Matchers;
}

/** How the suite speaks to a store in bytes, whatever its value type. */
export interface Adapter<In, Out> {
  /** Bytes → a value to append. */
  in(bytes: Uint8Array): In;
  /** A returned value → bytes. */
  out(value: Out): Uint8Array;
  /** Values `append` must refuse with a TypeError. */
  badValues: unknown[];
}

/** The adapter of raw stores and bytes → bytes layers. */
export const bytesAdapter: Adapter<Uint8Array, Uint8Array> = {
  in: (b) => b,
  out: (v) => v,
  badValues: ['abc', [1, 2], 42, null, undefined, { length: 1 }, new DataView(new ArrayBuffer(2))],
};

export const b = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
const text = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString('utf8');

/** Runs the suite, on the framework `t`, against stores made by `make`; `ad` turns bytes into the store's values and back. */
export function conformance<In, Out>(
  t: TestApi,
  name: string,
  make: () => Partd<In, Out> | Promise<Partd<In, Out>>,
  ad: Adapter<In, Out>,
): void {
  const { describe, it, expect } = t;
  const v = (s: string) => ad.in(b(s));
  const str = (o: unknown) => text(ad.out(o as Out));
  const strs = (os: unknown): unknown[] =>
    (os as unknown[]).map((o) => (Array.isArray(o) && !(o as unknown[]).every((x) => typeof x === 'number') ? strs(o) : str(o)));

  async function withStore(fn: (p: Partd<In, Out>) => Promise<void>): Promise<void> {
    const p = await make();
    try {
      await fn(p);
    } finally {
      if (!p.closed) {
        await p.drop();
        await p.close();
      }
    }
  }

  describe(`conformance: ${name}`, () => {
    it('appends and gets (partd test_partd)', () =>
      withStore(async (p) => {
        await p.append({ x: v('Hello'), y: v('abc') });
        await p.append({ x: v('World!'), y: v('def') });
        expect(strs(await p.get(['y', 'x']))).toEqual(['abcdef', 'HelloWorld!']);
        expect(str(await p.get('x'))).toBe('HelloWorld!');
        expect(str(await p.get('z'))).toBe('');
        expect(await p.get([])).toEqual([]);
      }));

    it('keeps append order over many calls', () =>
      withStore(async (p) => {
        let expected = '';
        for (let i = 0; i < 50; i++) {
          await p.append({ k: v(`<${i}>`) });
          expected += `<${i}>`;
        }
        expect(str(await p.get('k'))).toBe(expected);
      }));

    it('gets nested key lists as nested arrays', () =>
      withStore(async (p) => {
        await p.append({ x: v('1'), y: v('2') });
        expect(strs(await p.get(['x', ['y', 'z'], [[tuple('q')]]]))).toEqual(['1', ['2', ''], [['']]]);
      }));

    it('takes a Map and [key, value] pairs, with number and tuple keys', () =>
      withStore(async (p) => {
        await p.append(
          new Map<Key, In>([
            [1, v('one')],
            [tuple('a', 2), v('a2')],
          ]),
        );
        await p.append([
          [0, v('zero')],
          [1, v('!')],
          ['1', v('str')],
        ]);
        expect(strs(await p.get([0, 1, '1', tuple('a', 2)]))).toEqual(['zero', 'one!', 'str', 'a2']);
      }));

    it('repeats of one key in one call append in order', () =>
      withStore(async (p) => {
        await p.append([
          ['k', v('a')],
          ['k', v('b')],
          ['k', v('c')],
        ]);
        expect(str(await p.get('k'))).toBe('abc');
      }));

    it('tells tuple keys from strings that look alike (partd test_key_tuple)', () =>
      withStore(async (p) => {
        const keys: Key[] = [tuple('a', 'b'), 'a/b', 'a-|-b', tuple('a/b'), tuple('a'), 'a', tuple('a', 'b', 'c'), '["a","b"]'];
        await p.append(keys.map((k, i) => [k, v(`v${i}`)] as const));
        expect(strs(await p.get(keys))).toEqual(keys.map((_, i) => `v${i}`));
        const listed = new Set<string>();
        for await (const k of p.keys()) listed.add(String(k));
        expect(listed).toEqual(new Set(keys.map(String)));
      }));

    it('stores awkward keys apart and lists them back', () =>
      withStore(async (p) => {
        const keys: Key[] = [
          '',
          '.',
          '..',
          '../x',
          '/etc/passwd',
          'a\0b',
          'x'.repeat(3000),
          'ü ☃ 🎉',
          '\ud800',
          '\ufffd',
          'CON',
          '%41',
          'A',
          '=',
          '#1',
          1,
          0,
          2 ** 53 - 1,
          tuple('', 0),
          tuple('~dtype:x'),
        ];
        await p.append(keys.map((k, i) => [k, v(`v${i}`)] as const));
        expect(strs(await p.get(keys))).toEqual(keys.map((_, i) => `v${i}`));
        const listed: Key[] = [];
        for await (const k of p.keys()) listed.push(k);
        expect(listed.map(String).sort()).toEqual(keys.map(String).sort());
        expect(listed.filter((k) => typeof k === 'number').sort()).toEqual([0, 1, 2 ** 53 - 1]);
      }));

    it('iset writes once per key (partd test_iset / test_ensure)', () =>
      withStore(async (p) => {
        await p.iset('x', v('123'));
        await p.iset('x', v('456'));
        await p.iset('x', v('789'));
        expect(str(await p.get('x'))).toBe('123');
        await p.append({ y: v('old') });
        await p.iset('y', v('new')); // the first iset of y replaces what y held
        expect(str(await p.get('y'))).toBe('new');
        await p.delete('x'); // delete forgets, so the next iset writes again
        await p.iset('x', v('again'));
        expect(str(await p.get('x'))).toBe('again');
      }));

    it('takes calls in the order they are made, awaited or not (iset counts at once)', () =>
      withStore(async (p) => {
        const gets = [
          p.iset('x', v('first')),
          p.iset('x', v('second')), // made before the first one is done: still does nothing
          p.append({ y: v('1') }),
          p.get(['x', 'y']),
          p.delete('x'),
          p.iset('x', v('third')), // after the delete: writes
          p.append({ y: v('2') }),
          p.pop('y'),
          p.get(['x', 'y']),
        ];
        const done = await Promise.all(gets);
        expect(strs(done[3])).toEqual(['first', '1']);
        expect(str(done[7])).toBe('12');
        expect(strs(done[8])).toEqual(['third', '']);
      }));

    it('deletes keys, missing ones too', () =>
      withStore(async (p) => {
        await p.append({ x: v('1'), y: v('2'), z: v('3') });
        await p.delete(['x', 'nope', ['z']]);
        await p.delete('nope');
        expect(strs(await p.get(['x', 'y', 'z']))).toEqual(['', '2', '']);
        await p.append({ x: v('4') });
        expect(str(await p.get('x'))).toBe('4');
      }));

    it('pops: gets and deletes in one step', () =>
      withStore(async (p) => {
        await p.append({ x: v('1'), y: v('2') });
        expect(strs(await p.pop(['x', 'q']))).toEqual(['1', '']);
        expect(str(await p.pop('y'))).toBe('2');
        expect(strs(await p.get(['x', 'y']))).toEqual(['', '']);
        const left: Key[] = [];
        for await (const k of p.keys()) left.push(k);
        expect(left).toEqual([]);
      }));

    it('drops everything and stays usable', () =>
      withStore(async (p) => {
        await p.append({ x: v('1'), [1]: v('2') });
        await p.iset('s', v('set'));
        await p.drop();
        expect(strs(await p.get(['x', '1', 's']))).toEqual(['', '', '']);
        await p.append({ x: v('after') });
        await p.iset('s', v('set2'));
        expect(strs(await p.get(['x', 's']))).toEqual(['after', 'set2']);
      }));

    it('iterates a key in append order', () =>
      withStore(async (p) => {
        const parts = Array.from({ length: 20 }, (_, i) => `part${i};`);
        for (const s of parts) await p.append({ k: v(s) });
        const seen: string[] = [];
        for await (const chunk of p.iterate('k')) seen.push(str(chunk));
        expect(seen.join('')).toBe(parts.join(''));
        const none: unknown[] = [];
        for await (const chunk of p.iterate('missing')) none.push(chunk);
        expect(none).toEqual([]);
      }));

    it('hands out values the caller may change: get and iterate leave what is stored as it was', () =>
      withStore(async (p) => {
        await p.append({ one: v('single'), many: v('ab') });
        for (let i = 0; i < 20; i++) await p.append({ many: v('cd') }); // past Spill(…, 10)'s budget: slow and fast parts
        await p.append({ last: v('new') }); // in Spill's fast store only
        const keys = ['one', 'many', 'last'];
        const expected = ['single', `ab${'cd'.repeat(20)}`, 'new'];
        const scribble = (o: unknown) => ad.out(o as Out).fill(0x21);
        for (let round = 0; round < 2; round++) {
          (await p.get(keys)).forEach(scribble);
          for (const k of keys) {
            scribble(await p.get(k));
            for await (const chunk of p.iterate(k)) scribble(chunk);
          }
          expect(strs(await p.get(keys))).toEqual(expected);
        }
      }));

    it('round-trips large values', () =>
      withStore(async (p) => {
        const big = new Uint8Array(3 << 20).map((_, i) => (i * 7919) % 251);
        await p.append({ big: ad.in(big) });
        await p.append({ big: ad.in(big.subarray(0, 1000)) });
        const got = ad.out(await p.get('big'));
        expect(got.length).toBe(big.length + 1000);
        expect(Buffer.compare(Buffer.from(got.subarray(0, big.length)), Buffer.from(big))).toBe(0);
      }));

    it('refuses bad values and bad keys, leaving stored data intact', () =>
      withStore(async (p) => {
        await p.append({ x: v('safe') });
        for (const bad of ad.badValues) {
          await expect(p.append({ x: v('more'), y: bad as In })).rejects.toThrow(TypeError);
          await expect(p.append({ x: v('more'), y: bad as In })).rejects.toThrow(/data\["y"\] value/);
          await expect(p.iset('q', bad as In)).rejects.toThrow(/value/);
        }
        const badKeys: unknown[] = [{}, undefined, null, NaN, -1, 1.5, Infinity, -0, Symbol('s'), true, 2 ** 53, new Date(0)];
        for (const key of badKeys) {
          await expect(
            p.append([
              ['x', v('more')],
              [key as Key, v('z')],
            ]),
          ).rejects.toThrow(/data\[1\] key/);
          await expect(p.get(key as Key)).rejects.toThrow(/key/);
          await expect(p.delete([key as Key])).rejects.toThrow(/keys\[0\]/);
          await expect(p.iset(key as Key, v('z'))).rejects.toThrow(/key/);
        }
        await expect(
          p.append([
            ['x', v('more')],
            [['a', 'b'] as unknown as Key, v('z')],
          ]),
        ).rejects.toThrow(/tuple\(/);
        expect(() => tuple()).toThrow(RangeError);
        expect(() => tuple('a', tuple('b') as unknown as string)).toThrow(/do not nest/);
        await expect(p.append('nope' as never)).rejects.toThrow(/data/);
        await expect(p.append([['x']] as never)).rejects.toThrow(/pair/);
        expect(str(await p.get('x'))).toBe('safe');
        expect(str(await p.get('q'))).toBe('');
      }));

    it('rejects every call after close, and closing twice is fine', async () => {
      const p = await make();
      await p.append({ x: v('1') });
      await p.drop();
      await p.close();
      await p.close();
      expect(p.closed).toBe(true);
      await expect(p.append({ x: v('1') })).rejects.toThrow(ClosedError);
      await expect(p.get('x')).rejects.toThrow(ClosedError);
      await expect(p.iset('x', v('1'))).rejects.toThrow(ClosedError);
      await expect(p.delete('x')).rejects.toThrow(ClosedError);
      await expect(p.pop('x')).rejects.toThrow(ClosedError);
      await expect(p.drop()).rejects.toThrow(ClosedError);
      await expect(p.iterate('x').next()).rejects.toThrow(ClosedError);
      await expect(p.keys().next()).rejects.toThrow(ClosedError);
    });

    it('closes on await using', async () => {
      let p: Partd<In, Out> | undefined;
      {
        await using q = await make();
        p = q;
        await q.append({ x: v('1') });
        await q.drop();
      }
      expect(p.closed).toBe(true);
    });
  });
}
