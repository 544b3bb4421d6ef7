/** Every example runs and prints what its comments promise. */
import { expect, it } from '@jest/globals';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { partitionOf } from '../src/index.js';
import { runNode } from './support/child.js';
import { startRedis } from './support/redis-server.js';

const dist = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'examples');

it.each([
  ['quickstart', ['Hello world!', "[ '123456', 'Hello world!' ]", 'Int32Array(5) [ 1, 2, 3, 4, 5 ]']],
  ['layers', ["[ { user: 'ann', amount: 3 }, { user: 'dee', amount: 2 } ]", 'key tuple("eu", 2024)']],
  ['spill', ['k7 holds 100000 bytes']],
  // 4 value files of 1 MiB; after the deletes, the 4 blobs left fill one.
  [
    'stores',
    [
      '16 blobs of 256 KiB: 4194304 bytes in value files',
      '4 blobs left: 1048576 bytes in value files',
      'blob15: 262144 bytes of 15',
      "File keys: [ 'x', 'y' ] ; x = Hello world!",
    ],
  ],
  // The sums follow from sale(i): region i % 4, amount (i % 100) + 1.
  // 10 users u0..u9 in 4 partitions; Σ (i mod 7) over i < 10,000 = 29,994.
  ['shuffle', ['10000 records in 4 partitions', `u3 is in partition ${partitionOf('u3', 4)}`, 'all partitions: 10 users, total 29994']],
  [
    'group-by',
    [
      'east: 250000 sales, total 12750000, biggest 99',
      'west: 250000 sales, total 13000000, biggest 100',
      '1000000 records in 20 splits on 2 workers',
    ],
  ],
  // Region east (i % 4 = 2) comes first; its amounts (37 i mod 1000) / 10 are even tenths, 99.8 the
  // largest, held by i = 54 + 1000 k, in input order (a stable sort). The last: west's smallest.
  [
    'sort',
    [
      '#1: order 54, east, 99.8',
      '#2: order 1054, east, 99.8',
      '#200000: order 199919, west, 0.3',
      '200000 orders sorted in 8 partitions on 2 workers',
    ],
  ],
  // 3000 orders, shop i % 3, amount (i % 50) + 1: each shop has every amount 20 times, 20 × 1275.
  [
    'files',
    [
      'Smith, Ltd: 1000 orders, total 25500',
      'The "Corner" Shop: 1000 orders, total 25500',
      'NDJSON: 3000 records, 1 skipped; same totals as the CSV: true',
      'orders.ndjson line 1501: not JSON',
    ],
  ],
  // 1000 orders, user i % 7 but none for every 100th: u0..u4 in the table have 707, u5 and u6 283, 10 have no user field.
  [
    'join',
    [
      'left join: 707 orders with their user, 283 of a user not in the table, 10 without a user field',
      'outer join: users without orders: u9',
      'inner join: 707 rows of 1000 orders and 6 users written to NDJSON',
      '707 lines, each an order with its user: true',
    ],
  ],
  // Killed halfway, then run again: some records were committed by the first run, and each is counted once.
  [
    'resume',
    ['first run killed: SIGKILL', 'second run: resumed: ', '1000 customers, 3000000 orders counted', 'c7: 3000 orders, amounts 1..997'],
  ],
])('examples/%s', async (name, lines) => {
  const r = await runNode(path.join(dist, `${name}.js`), []);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  for (const line of lines) expect(r.stdout).toContain(line);
});

// 400,000 sales, region i % 4, amount (i % 100) + 1: 100,000 each; east (i % 4 = 2) has amounts 3, 7, …, 99, 1000 times each.
it('examples/cluster: two workers and a job through a server started for it', async () => {
  const server = await startRedis();
  try {
    const r = await runNode(path.join(dist, 'cluster.js'), [server.url]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('east: 100000 sales, total 5100000');
    expect(r.stdout).toContain('400000 records in');
    expect(server.cli('keys', 'partd:*').trim()).toBe(''); // the job's keys removed at its end
  } finally {
    await server.stop();
  }
});

it('examples/redis, on a server started for it', async () => {
  const server = await startRedis();
  try {
    const r = await runNode(path.join(dist, 'redis.js'), [server.url]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('the other instance reads: Hello world! 123456');
    expect(r.stdout).toContain("eu: [ { user: 'ann', amount: 3 }, { user: 'dee', amount: 2 } ]");
    expect(server.cli('dbsize').trim()).toBe('0'); // the named store dropped, the temporary one removed
  } finally {
    await server.stop();
  }
});
