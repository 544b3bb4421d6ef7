/** Every store, and every layer over Dict and Lmdb, runs the one conformance suite. */
import { Dict, File, Lmdb, Spill, Msgpack, Structured, ZLib, Brotli, LZ4, TypedArrays, Encode, type Partd } from '../src/index.js';
import { bytesAdapter, concatBytes } from '../src/extend.js';
import { arrays, conformance, typed } from './support/adapters.js';

type Raw = Partd<Uint8Array, Uint8Array>;
const raws: [string, () => Raw][] = [
  ['Dict', () => new Dict()],
  ['File', () => new File()],
  ['Lmdb', () => new Lmdb()], // temporary: noSync
  ['Lmdb({ noSync: false })', () => new Lmdb(undefined, { noSync: false })], // synced, as at a path
  [
    'Lmdb({ valueFiles: 1, valueFileMax: 64, noSync: false })',
    () => new Lmdb(undefined, { valueFiles: 1, valueFileMax: 64, noSync: false }),
  ], // every direct value in value files, nearly a file per call
  ['Spill(Dict, Dict, 10)', () => new Spill(new Dict(), new Dict(), 10)],
  ['Spill(Dict, Lmdb, 10)', () => new Spill(new Dict(), new Lmdb(), 10)],
  ['Spill(Dict, File, 1000)', () => new Spill(new Dict(), new File(), 1000)],
  ['Spill(LZ4(Dict), Lmdb, 10)', () => new Spill(new LZ4(new Dict()), new Lmdb(), 10)], // a fast store that is not a Dict
];
for (const [name, make] of raws) conformance(name, make, bytesAdapter);

for (const [innerName, inner] of [
  ['Dict', () => new Dict()],
  ['Lmdb', () => new Lmdb()],
] as const) {
  conformance(`Msgpack(${innerName})`, () => new Msgpack(inner()), arrays);
  conformance(`Structured(${innerName})`, () => new Structured(inner()), arrays);
  conformance(`ZLib(${innerName})`, () => new ZLib(inner()), bytesAdapter);
  conformance(`Brotli(${innerName})`, () => new Brotli(inner()), bytesAdapter);
  conformance(`LZ4(${innerName})`, () => new LZ4(inner()), bytesAdapter);
  conformance(`TypedArrays(${innerName})`, () => new TypedArrays(inner()) as unknown as Partd<Uint8Array, Uint8Array>, typed);
  conformance(
    `Encode(identity, ${innerName})`,
    () =>
      new Encode<Uint8Array, Uint8Array>(
        (v) => v,
        (b) => new Uint8Array(b),
        (parts) => concatBytes(parts.length ? parts : [new Uint8Array(0)]),
        inner(),
      ),
    { ...bytesAdapter, badValues: [] },
  );
}
conformance('Msgpack(LZ4(Spill(Dict, Lmdb, 100)))', () => new Msgpack(new LZ4(new Spill(new Dict(), new Lmdb(), 100))), arrays);
