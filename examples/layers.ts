/** Layers nest around any store, as in partd: records through MessagePack, compressed with LZ4, on LMDB. */
import { LZ4, Lmdb, Msgpack, tuple } from '../src/index.js';

await using p = new Msgpack<{ user: string; amount: number }>(new LZ4(new Lmdb()));
await p.append({ eu: [{ user: 'ann', amount: 3 }], us: [{ user: 'bob', amount: 5 }] });
await p.append([[tuple('eu', 2024), [{ user: 'cy', amount: 1 }]]]); // tuple keys need the pairs form
await p.append({ eu: [{ user: 'dee', amount: 2 }] });
console.log(await p.get('eu')); // [ { user: 'ann', amount: 3 }, { user: 'dee', amount: 2 } ]
for await (const batch of p.iterate('eu')) console.log('batch', batch); // one batch per append
for await (const key of p.keys()) console.log('key', String(key));
await p.drop();
