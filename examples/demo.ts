/**
 * `npm run demo`: makes W4's 5M-record NDJSON file once (data/, git-ignored), runs
 * `partd groupby` on it (progress bars on a terminal), then prints the ten largest groups.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DATA_DIR, ensureNdjson } from '../bench/w4/data.js';

const records = Number(process.argv[2] ?? 5_000_000);
const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');
console.error(`demo: preparing ${records.toLocaleString('en-US')} records as NDJSON in ${DATA_DIR} (once) ...`);
const input = await ensureNdjson(records);
const output = path.join(DATA_DIR, 'demo-groups.ndjson');
console.error(
  `demo: partd groupby ${path.relative(process.cwd(), input)} --key key --count --sum amount --out ${path.relative(process.cwd(), output)}`,
);
const run = spawnSync(process.execPath, [cli, 'groupby', input, '--key', 'key', '--count', '--sum', 'amount', '--out', output], {
  stdio: 'inherit',
});
if (run.status !== 0) process.exit(run.status ?? 1);

const groups = fs
  .readFileSync(output, 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as { key: string; count: number; sum_amount: number });
groups.sort((a, b) => b.count - a.count || b.sum_amount - a.sum_amount || (a.key < b.key ? -1 : 1));
console.log('The ten largest groups:');
console.log('key'.padEnd(12), 'count'.padStart(6), 'sum_amount'.padStart(12));
for (const g of groups.slice(0, 10)) console.log(g.key.padEnd(12), String(g.count).padStart(6), g.sum_amount.toFixed(1).padStart(12));
