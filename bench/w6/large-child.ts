/**
 * W6-large's process: `node dist/bench/w6/large-child.js N OUT WORKERS` groups N records with
 * 20M keys and streams the groups with `iterateGroups` to the NDJSON file OUT, one
 * `JSON.stringify(row)` a line, as `partd groupby --out` does (the CLI reads files only, so
 * a generated input goes through the API here). Prints the checksum of what it wrote.
 */
import fs from 'node:fs';
import { iterateGroups } from '../../src/index.js';
import { peakRss } from '../../src/shuffle/runtime/peak-rss.js';
import { recordsInput } from '../engine.js';
import { W6_LARGE_KEYS } from '../w2/records.js';

const [n, out, workers] = [Number(process.argv[2]), process.argv[3]!, Number(process.argv[4] ?? 2)];
const t0 = performance.now();
const file = fs.createWriteStream(out);
let groups = 0;
let count = 0;
let sum = 0;
const rows = iterateGroups({
  input: recordsInput(n, W6_LARGE_KEYS),
  key: 'key',
  partitions: 128,
  workers,
  aggregate: { count: { op: 'count' }, sum_amount: { op: 'sum', field: 'amount' } },
});
for await (const [, row] of rows) {
  if (!file.write(JSON.stringify(row) + '\n')) await new Promise<void>((resolve) => file.once('drain', () => resolve()));
  (groups++, (count += row.count as number), (sum += row.sum_amount as number));
}
await new Promise<void>((resolve, reject) => file.once('error', reject).end(() => resolve()));
const seconds = (performance.now() - t0) / 1000; // from the job's start to the file's end: not the process start, as W6's rows
process.stdout.write(JSON.stringify({ checksum: { groups, count, sum }, seconds, maxRss: peakRss() }));
