/**
 * The Python partd quickstart, in TypeScript: append bytes to keys, get one key and a list,
 * numbers through the typed-array layer, drop. Run: `npm run build && node dist/examples/quickstart.js`.
 */
import { Lmdb, TypedArrays } from '../src/index.js';

const text = (b: Uint8Array) => Buffer.from(b).toString();

// A store in a fresh temporary directory (pass a path to keep it).
await using p = new Lmdb();
await p.append({ x: Buffer.from('Hello '), y: Buffer.from('123') });
await p.append({ x: Buffer.from('world!'), y: Buffer.from('456') });
console.log(text(await p.get('x'))); // Hello world!
console.log((await p.get(['y', 'x'])).map(text)); // [ '123456', 'Hello world!' ]

// Numbers: the typed-array layer (partd's Numpy) keeps each key's element type.
await using n = new TypedArrays(new Lmdb());
await n.append({ a: new Int32Array([1, 2, 3]), b: new Float64Array([0.5]) });
await n.append({ a: new Int32Array([4, 5]), b: new Float64Array([1.5]) });
console.log(await n.get('a')); // Int32Array(5) [ 1, 2, 3, 4, 5 ]
console.log(await n.get('b')); // Float64Array(2) [ 0.5, 1.5 ]

await p.drop(); // empties the store; closing (here: leaving the block) removes its directory
await n.drop();
