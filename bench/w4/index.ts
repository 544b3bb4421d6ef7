/**
 * W4 (shared/workloads.md): `partd groupby` on W2's first 5M records as NDJSON and as CSV, run
 * as a user runs it (a process of its own, 2 workers), against DuckDB's `GROUP BY` of the same
 * file, in interleaved rounds.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expected, type Checksum } from '../checksum.js';
import { runNode } from '../child.js';
import { duckdbInstalled, runDuckdb } from '../duckdb.js';
import type { Result } from '../report.js';
import { interleave, ratioOf, rowsOf, type Config, type Outcome, type Ratio } from '../rounds.js';
import { W2_KEYS } from '../w2/records.js';
import { ensureCsv, ensureNdjson } from './data.js';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');

/** `partd groupby FILE --key key --count --sum amount --workers 2`: the whole process timed, its groups summed. */
async function cli(file: string): Promise<Outcome> {
  const run = await runNode([CLI, 'groupby', file, '--key', 'key', '--count', '--sum', 'amount', '--workers', '2', '--quiet']);
  const sums: Checksum = { groups: 0, count: 0, sum: 0 };
  for (const line of run.stdout.split('\n')) {
    if (line === '') continue;
    const g = JSON.parse(line) as { count: number; sum_amount: number };
    ((sums.groups! += 1), (sums.count += g.count), (sums.sum += g.sum_amount));
  }
  return { checksum: sums, seconds: run.seconds, peakRss: run.peakRss };
}

/** W4's rows (each format: partd, then DuckDB) and its ratios. */
export async function runW4(records = 5_000_000, rounds = 3): Promise<Result> {
  const want = expected(records, W2_KEYS);
  const duck = duckdbInstalled();
  const configs: Config[] = [];
  for (const [format, file] of [
    ['ndjson', await ensureNdjson(records)],
    ['csv', await ensureCsv(records)],
  ] as const) {
    const MB = Math.round(fs.statSync(file).size / 1e6);
    configs.push({ id: format, name: `partd groupby, 2 workers (${format.toUpperCase()}, ${MB} MB)`, records, want, run: () => cli(file) });
    if (duck)
      configs.push({
        id: `duckdb-${format}`,
        name: `DuckDB 2 threads: GROUP BY of read_${format === 'csv' ? 'csv' : 'json'} (${format.toUpperCase()})`,
        peer: 'duckdb',
        records,
        want,
        against: format,
        run: () => runDuckdb({ kind: 'file', file, format }),
      });
  }
  const runs = await interleave('W4', configs, rounds);
  const ratios: Ratio[] = [];
  for (const format of ['ndjson', 'csv']) {
    const r = ratioOf(runs, format, `duckdb-${format}`);
    if (r !== undefined) ratios.push({ label: `W4: partd groupby ÷ DuckDB (${format.toUpperCase()})`, value: r, target: 2.5 });
  }
  return { rows: rowsOf(configs, runs), ratios };
}
