/**
 * Many small appends: keep them in memory and spill the largest keys to LMDB past a budget
 * (partd's Buffer). `get` returns the spilled bytes then the in-memory ones, in append order.
 */
import { Dict, Lmdb, Spill } from '../src/index.js';

await using p = new Spill(new Dict(), new Lmdb(), 1 << 20); // 1 MiB in memory
for (let round = 0; round < 1000; round++) {
  const data: Record<string, Uint8Array> = {};
  for (let k = 0; k < 100; k++) data[`k${k}`] = new Uint8Array(100).fill(k);
  await p.append(data);
}
console.log('in memory:', p.memoryUsage, 'bytes; k7 holds', (await p.get('k7')).length, 'bytes');
await p.drop();
