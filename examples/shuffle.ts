/**
 * The raw shuffle: an NDJSON file hash-partitioned by `user` into 4 partitions on 2 worker
 * threads; then one partition read whole and in batches, and a reducer run on every
 * partition in the workers (`gather`). Run: `npm run build && node dist/examples/shuffle.js`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { partitionOf, shuffle } from '../src/index.js';

type Event = { user: string; amount: number };

/** The gather reducer, run in the workers once per partition: its users and their total. */
export async function totals(batches: AsyncIterable<Event[]>, partition: number) {
  const sums = new Map<string, number>();
  for await (const batch of batches) for (const e of batch) sums.set(e.user, (sums.get(e.user) ?? 0) + e.amount);
  return { partition, users: sums.size, total: [...sums.values()].reduce((a, b) => a + b, 0) };
}

// The workers import this module to find `totals`: only the main thread runs the job.
if (isMainThread) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'partd-example-'));
  const file = path.join(dir, 'events.ndjson');
  fs.writeFileSync(file, Array.from({ length: 10_000 }, (_, i) => JSON.stringify({ user: `u${i % 10}`, amount: i % 7 })).join('\n') + '\n');
  {
    await using h = await shuffle<Event>({ input: { ndjson: file }, key: 'user', partitions: 4, workers: 2 }); // dropped at the end of the block
    console.log(`${h.stats.records} records in ${h.partitions} partitions`);

    const p = partitionOf('u3', h.partitions); // the same partition in every thread, process and run
    const events = await h.get(p);
    console.log(`u3 is in partition ${p}, with users ${[...new Set(events.map((e) => e.user))].sort().join(' ')}`);
    let batches = 0;
    for await (const batch of h.iterate(p)) batches += batch.length > 0 ? 1 : 0; // a partition larger than memory, batch by batch
    console.log(`partition ${p} read in ${batches} batch(es)`);

    const results = await h.gather<Awaited<ReturnType<typeof totals>>>({ module: import.meta.url, export: 'totals' });
    for (const r of results) console.log(`partition ${r.partition}: ${r.users} users, total ${r.total}`);
    console.log(`all partitions: ${results.reduce((n, r) => n + r.users, 0)} users, total ${results.reduce((n, r) => n + r.total, 0)}`);
  }
  fs.rmSync(dir, { recursive: true });
}
