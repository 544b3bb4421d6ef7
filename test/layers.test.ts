/** What is particular to each encoding layer, beyond the conformance suite. */
import { describe, expect, it } from '@jest/globals';
import {
  CorruptFrameError,
  Dict,
  DtypeMismatchError,
  Encode,
  File,
  Lmdb,
  LZ4,
  Msgpack,
  Structured,
  TypedArrays,
  ZLib,
  Brotli,
  tuple,
  type Partd,
} from '../src/index.js';
import { b } from '../src/extend/conformance.js';
import fc from 'fast-check';
import { framer, recordFrame } from '../src/shuffle/scatter/outbox.js';
import { FRAME_HEADER, unframe } from '../src/layers/frames.js';

const str = (u: Uint8Array) => Buffer.from(u).toString();
const list = (x: unknown) => Array.from(x as ArrayLike<unknown>);

describe('Encode (partd test_encode)', () => {
  it('compresses with user functions over File, and iset writes once', async () => {
    const zlib = await import('node:zlib');
    const p = new Encode<Uint8Array, Uint8Array>(
      (v) => zlib.deflateSync(v),
      (x) => zlib.inflateSync(x),
      (parts) => Buffer.concat(parts),
      new File(),
    );
    await p.append({ x: b('Hello'), y: b('abc') });
    await p.append({ x: b('World!'), y: b('def') });
    expect((await p.get(['y', 'x'])).map(str)).toEqual(['abcdef', 'HelloWorld!']);
    expect(str(await p.get('z'))).toBe('');
    await p.iset('s', b('123'));
    await p.iset('s', b('456'));
    expect(str(await p.get('s'))).toBe('123');
    await p.close();
  });

  it('refuses non-functions', () => {
    expect(
      () =>
        new Encode(
          1 as never,
          (x: unknown) => x as never,
          (x: unknown) => x as never,
          new Dict(),
        ),
    ).toThrow(/encode/);
    expect(
      () =>
        new Encode(
          (x: unknown) => x as never,
          (x: unknown) => x as never,
          (x: unknown) => x as never,
          {} as never,
        ),
    ).toThrow(/inner/);
  });

  it('an encoder that throws changes nothing', async () => {
    const p = new Encode<string, string>(
      (v) => {
        if (v === 'bad') throw new Error('no');
        return b(v);
      },
      str,
      (xs) => xs.join(''),
      new Dict(),
    );
    await p.append({ x: 'ok' });
    await expect(p.append({ x: 'more', y: 'bad' })).rejects.toThrow('no');
    expect(await p.get(['x', 'y'])).toEqual(['ok', '']);
  });
});

describe('corrupt stored bytes are an error, not garbage', () => {
  const layers: [string, (inner: Partd) => Partd<never, unknown>][] = [
    ['Msgpack', (i) => new Msgpack(i) as never],
    ['Structured', (i) => new Structured(i) as never],
    ['ZLib', (i) => new ZLib(i) as never],
    ['Brotli', (i) => new Brotli(i) as never],
    ['LZ4', (i) => new LZ4(i) as never],
  ];
  it.each(layers)('%s', async (_, wrap) => {
    const inner = new Dict();
    const p = wrap(inner);
    await inner.append({
      garbage: b('this is not a frame'),
      truncated: Buffer.from([0xfd, 0, 0, 0, 9, 1, 2]),
      badPayload: Buffer.from([0xfd, 0, 0, 0, 3, 0xc1, 0xc1, 0xc1]),
    });
    await expect(p.get('garbage')).rejects.toThrow(CorruptFrameError);
    await expect(p.get('truncated')).rejects.toThrow(/truncated frame/);
    await expect(p.get('badPayload')).rejects.toThrow(CorruptFrameError);
    const it = p.iterate('truncated');
    await expect(
      (async () => {
        for await (const _x of it);
      })(),
    ).rejects.toThrow(CorruptFrameError);
  });
});

describe('Msgpack and Structured', () => {
  it('Msgpack keeps objects, nested arrays, strings, numbers, null, binary', async () => {
    const p = new Msgpack(new Lmdb());
    const values = [{ id: 1, key: 'user5', amount: 0.5, tag: 'alpha' }, [1, [2, 3]], 'text', -1.25, null, true, Buffer.from([1, 2])];
    await p.append({ x: values.slice(0, 3) });
    await p.append({ x: values.slice(3) });
    expect(await p.get('x')).toEqual(values);
    const batches: unknown[][] = [];
    for await (const batch of p.iterate('x')) batches.push(batch);
    expect(batches).toEqual([values.slice(0, 3), values.slice(3)]);
    await p.close();
  });

  it('Structured keeps Map, Set, Date, BigInt, typed arrays and cycles', async () => {
    const p = new Structured(new Lmdb());
    const cyclic: { self?: unknown; n: number } = { n: 1 };
    cyclic.self = cyclic;
    await p.append({ x: [new Map([[1, 'a']]), new Set(['s']), new Date(86_400_000), 2n ** 70n, new Float32Array([1.5]), cyclic] });
    const [map, set, date, big, f32, cyc] = (await p.get('x')) as [
      Map<number, string>,
      Set<string>,
      Date,
      bigint,
      Float32Array,
      typeof cyclic,
    ];
    expect(map.get(1)).toBe('a');
    expect(set.has('s')).toBe(true);
    expect(date.getTime()).toBe(86_400_000);
    expect(big).toBe(2n ** 70n);
    expect(list(f32)).toEqual([1.5]);
    expect(cyc.self).toBe(cyc);
    await p.close();
  });
});

describe('TypedArrays (partd test_numpy)', () => {
  it.each([
    ['Dict', () => new Dict()],
    ['File', () => new File()],
    ['Lmdb', () => new Lmdb()],
  ] as const)('keeps element types per key over %s', async (_, inner) => {
    const p = new TypedArrays(inner());
    await p.append({ a: new Int32Array([10, 20, 30]), b: new Int16Array([1, 2, 3]), c: new Float64Array([0.1, 0.2, 0.3]) });
    await p.append({ a: new Int32Array([70, 80, 90]), b: new Int16Array([7, 8, 9]), c: new Float64Array([0.7, 0.8, 0.9]) });
    const [a, c] = await p.get(['a', 'c']);
    expect(a).toBeInstanceOf(Int32Array);
    expect(list(a!)).toEqual([10, 20, 30, 70, 80, 90]);
    expect(c).toBeInstanceOf(Float64Array);
    expect(list(c!)).toEqual([0.1, 0.2, 0.3, 0.7, 0.8, 0.9]);
    // nested tuple keys (test_nested)
    await p.append([
      ['x', new Float64Array([1, 2, 3])],
      [tuple('y', 1), new Int32Array([4, 5, 6])],
      [tuple('z', 'a', 3), new Float32Array([0.5, 0.25])],
    ]);
    expect(list(await p.get(tuple('z', 'a', 3)))).toEqual([0.5, 0.25]);
    expect(await p.get(tuple('z', 'a', 3))).toBeInstanceOf(Float32Array);
    // another element type for a key is refused, and nothing of that call lands
    await expect(p.append({ q: new Int8Array([1]), a: new Float64Array([1]) })).rejects.toThrow(DtypeMismatchError);
    await expect(p.append({ a: new Float64Array([1]) })).rejects.toThrow(/holds Int32Array/);
    expect(list(await p.get('a'))).toEqual([10, 20, 30, 70, 80, 90]);
    expect((await p.get('q')).length).toBe(0);
    // the type survives reopening through a fresh layer on the same store
    const fresh = new TypedArrays(p.inner);
    await expect(fresh.append({ a: new Uint8Array([1]) })).rejects.toThrow(DtypeMismatchError);
    // BigInt types, unaligned reads, iterate by element
    await p.append({ big: new BigInt64Array([1n, -2n]) });
    await p.append({ big: new BigInt64Array([3n]) });
    expect(list(await p.get('big'))).toEqual([1n, -2n, 3n]);
    const pieces: bigint[] = [];
    for await (const part of p.iterate('big')) pieces.push(...(part as BigInt64Array));
    expect(pieces).toEqual([1n, -2n, 3n]);
    // delete forgets the type too
    await p.delete('a');
    await p.append({ a: new Float64Array([2.5]) });
    expect(await p.get('a')).toBeInstanceOf(Float64Array);
    const keys: unknown[] = [];
    for await (const k of p.keys()) keys.push(String(k));
    expect(keys.sort()).toEqual(['a', 'b', 'big', 'c', 'tuple("y", 1)', 'tuple("z", "a", 3)', 'x']);
    await p.close();
  });

  it('a missing key is an empty Float64Array', async () => {
    const p = new TypedArrays(new Dict());
    const v = await p.get('none');
    expect(v).toBeInstanceOf(Float64Array);
    expect(v.length).toBe(0);
  });
});

describe('layers nest (partd composition)', () => {
  it('Msgpack(ZLib(LZ4(Lmdb))) round-trips and closes all the way down', async () => {
    const lmdb = new Lmdb();
    const p = new Msgpack(new ZLib(new LZ4(lmdb)));
    await p.append({ k: [1, 'two'] });
    await p.append({ k: [{ three: 3 }] });
    expect(await p.get('k')).toEqual([1, 'two', { three: 3 }]);
    await p.close();
    expect(lmdb.closed).toBe(true);
  });
});

describe('record columns (layers/columns.ts): a frame of records of one shape', () => {
  // field names and values a shuffle's records hold: plain and odd names, every kind of number and string
  const name = fc.constantFrom('id', 'key', '0', '7', '__proto__', 'constructor', 'é', '', 'a b');
  const base = Array.from({ length: 20 }, (_, i) => ({ id: i, key: `k${i}` }));
  const number = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(-0, NaN, Infinity, 2 ** 60, 5e-324));
  const string = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('\ud83d', 'x\udc00', 'é', '\u00ff', '\u0100'));
  const frames = fc.uniqueArray(name, { minLength: 1, maxLength: 5 }).chain((names) =>
    fc
      .tuple(
        fc.constant(names),
        fc.array(fc.boolean(), { minLength: names.length, maxLength: names.length }), // number or string field
        fc.integer({ min: 0, max: 40 }),
      )
      .chain(([names, numeric, n]) =>
        fc.array(
          fc.tuple(...names.map((_, j) => (numeric[j] ? number : string))).map((values) => {
            const r: Record<string, unknown> = {};
            names.forEach((k, j) =>
              Object.defineProperty(r, k, { value: values[j], enumerable: true, writable: true, configurable: true }),
            );
            return r;
          }),
          { minLength: n, maxLength: n },
        ),
      ),
  );
  const roundTrip = (records: unknown[]) => {
    const frame = recordFrame(records);
    return { packed: frame[FRAME_HEADER] === 0xc9 && frame[FRAME_HEADER + 5] === 0x43, back: framer.decode(unframe(frame, 'x')[0]!) };
  };
  const same = (a: unknown, b: unknown) => {
    expect(Object.getPrototypeOf(b)).toBe(Object.getPrototypeOf(a));
    expect(Object.keys(b as object)).toEqual(Object.keys(a as object));
    for (const k of Object.keys(a as object))
      expect(Object.is((b as Record<string, unknown>)[k], (a as Record<string, unknown>)[k])).toBe(true);
  };

  it('comes back exactly as it went in: key order, -0, NaN, unpaired surrogates (fast-check)', () => {
    expect(roundTrip(base).packed).toBe(true); // first: a thread compiles at most 256 shapes
    let packed = 0;
    fc.assert(
      fc.property(frames, (records) => {
        const r = roundTrip(records);
        expect(r.back).toHaveLength(records.length);
        if (!r.packed) return expect(r.back).toEqual(framer.decode(framer.encode(records))); // plain MessagePack, as before
        packed++;
        records.forEach((record, i) => same(record, r.back[i]));
      }),
      { numRuns: 500 },
    );
    expect(packed).toBeGreaterThan(100); // most frames take the columns
  });

  it('leaves to MessagePack any frame not of one shape of numbers and strings', () => {
    for (const odd of [
      { key: 'k', id: 1 }, // another key order
      { id: 1, key: 'k', more: 2 }, // another key
      { id: '1', key: 'k' }, // another type
      { id: 1, key: null },
      Object.assign(Object.create(null), { id: 1, key: 'k' }), // another prototype
      [1, 'k'],
    ]) {
      const records = [...base.slice(0, 10), odd, ...base.slice(10)];
      const r = roundTrip(records);
      expect(r.packed).toBe(false);
      expect(r.back).toEqual(records);
    }
    expect(roundTrip(base.slice(0, 3)).packed).toBe(false); // too few to be worth it
    // a field named __proto__: MessagePack, which renames it __proto_ (msgpackr's guard), for every frame alike
    const proto = base.map((r) => JSON.parse(`{"id":${r.id},"key":"${r.key}","__proto__":"p"}`) as object); // an own __proto__, as JSON.parse makes it
    expect(Object.keys(proto[0]!)).toEqual(['id', 'key', '__proto__']);
    expect(roundTrip(proto)).toEqual({ packed: false, back: base.map((r) => ({ ...r, __proto_: 'p' })) });
  });
});
