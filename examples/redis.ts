/**
 * The Redis store: keys in a Redis server (or a Redis Cluster), shared by every process that
 * opens the same name, on any machine. Run it with a server's URL:
 * `node dist/examples/redis.js redis://127.0.0.1:6379` (or set REDIS_URL).
 */
import { Msgpack, Redis } from '../src/index.js';

const url = process.argv[2] ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

{
  // Two instances of one named store, as two processes on two machines would open it.
  await using writer = new Redis(url, { name: 'example' });
  await using reader = new Redis(url, { name: 'example' });
  await writer.append({ x: Buffer.from('Hello '), y: Buffer.from('123') });
  await writer.append({ x: Buffer.from('world!'), y: Buffer.from('456') });
  console.log('the other instance reads:', String(await reader.get('x')), String(await reader.get('y')));
  await writer.drop(); // a named store keeps its keys until then
}

{
  // Without a name: a temporary store, removed on close and at exit (a TTL if the process is killed).
  await using events = new Msgpack<{ user: string; amount: number }>(new Redis(url));
  await events.append({ eu: [{ user: 'ann', amount: 3 }] });
  await events.append({ eu: [{ user: 'dee', amount: 2 }] });
  console.log('eu:', await events.get('eu'));
}
