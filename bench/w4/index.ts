/** W4 (shared/workloads.md): `partd groupby` on W2's first 5M records as NDJSON and as CSV, run as a user runs it. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Row } from '../report.js';
import { ensureCsv, ensureNdjson } from './data.js';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');

/** One row per format: seconds, records/s, MB/s of the file, groups. */
export async function runW4(records = 5_000_000): Promise<Row[]> {
  const rows: Row[] = [];
  for (const [format, file] of [
    ['NDJSON', await ensureNdjson(records)],
    ['CSV', await ensureCsv(records)],
  ] as const) {
    const t0 = performance.now();
    const run = spawnSync(process.execPath, [CLI, 'groupby', file, '--key', 'key', '--count', '--sum', 'amount', '--quiet'], {
      encoding: 'utf8',
      maxBuffer: 1 << 30,
    });
    const seconds = (performance.now() - t0) / 1000;
    if (run.status !== 0) throw new Error(`partd groupby ${file} failed: ${run.stderr}`);
    const groups = run.stdout.trim().split('\n').length;
    const bytes = fs.statSync(file).size;
    rows.push({
      name: `partd groupby (${format})`,
      records,
      MB: Math.round(bytes / 1e6),
      seconds,
      records_per_s: Math.round(records / seconds),
      MB_per_s: bytes / 1e6 / seconds,
      groups,
    });
    console.error(`W4: ${format} done`);
  }
  return rows;
}
