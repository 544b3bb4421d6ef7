/**
 * `groupBy` over files: CSV with a header row — quoted fields holding commas, quotes and line
 * breaks, `\r\n` line ends — and NDJSON. Each worker reads byte ranges cut at record ends.
 * A malformed row stops the job with its file and line, or is skipped and counted with
 * `onBadRecord: 'skip'`.
 * Run: `npm run build && node dist/examples/files.js`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { groupBy } from '../src/index.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'partd-files-'));
try {
  // 3000 orders of 3 shops; every 10th note is quoted, with a comma, a quote and a line break.
  const shops = ['Smith, Ltd', 'The "Corner" Shop', 'Bakery'];
  const quote = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);
  const rows = Array.from({ length: 3000 }, (_, i) => [
    String(i),
    shops[i % 3]!,
    String((i % 50) + 1),
    i % 10 ? 'ok' : `late, "again"\r\nsee ${i}`,
  ]);
  const csv = path.join(dir, 'orders.csv');
  fs.writeFileSync(csv, ['id,shop,amount,note', ...rows.map((r) => r.map(quote).join(','))].join('\r\n') + '\r\n');

  const aggregate = { orders: { op: 'count' }, total: { op: 'sum', field: 'amount' } } as const;
  const fromCsv = await groupBy({ input: { csv }, key: 'shop', aggregate, workers: 2, splits: 4 });
  for (const [shop, g] of [...fromCsv].sort()) console.log(`${shop}: ${g.orders} orders, total ${g.total}`);

  // The same orders as NDJSON, with one line that is not JSON: skipped and counted.
  const ndjson = path.join(dir, 'orders.ndjson');
  const lines = rows.map(([id, shop, amount, note]) => JSON.stringify({ id: Number(id), shop, amount: Number(amount), note }));
  lines.splice(1500, 0, '{"id": broken');
  fs.writeFileSync(ndjson, lines.join('\n') + '\n');
  const fromNdjson = await groupBy({ input: { ndjson }, key: 'shop', aggregate, workers: 2, onBadRecord: 'skip' });
  const same = [...fromCsv].every(([shop, g]) => fromNdjson.get(shop)?.total === g.total);
  console.log(`NDJSON: ${fromNdjson.stats!.records} records, ${fromNdjson.stats!.badRecords} skipped; same totals as the CSV: ${same}`);

  // Without onBadRecord, the job stops at the bad line, naming it.
  await groupBy({ input: { ndjson }, key: 'shop', aggregate, workers: 2 }).catch((e: Error) => console.log(`error: ${e.message}`));
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
