/** A key of more than 512 MiB (Redis' limit for one string) in the `Redis` store: held as a list of segments. */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { Redis } from '../src/index.js';
import { startRedis, type RedisProcess } from './support/redis-server.js';

let server: RedisProcess;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await server?.stop();
});

it('appends and reads back a 513 MiB value, then more after it', async () => {
  const store = new Redis(server.url);
  try {
    const size = 513 * 2 ** 20 + 12345;
    const big = Buffer.allocUnsafe(size);
    for (let i = 0; i < size; i += 4096) big.writeUInt32LE(i, i); // every page its own bytes
    await store.append({ big });
    await store.append({ big: Buffer.from('tail') });
    const got = await store.get('big');
    expect(got.length).toBe(size + 4);
    expect(Buffer.compare(Buffer.from(got.buffer, got.byteOffset, size), big)).toBe(0);
    expect(Buffer.from(got.subarray(size)).toString()).toBe('tail');
  } finally {
    await store.close();
  }
}, 120_000);
