/**
 * S1 of issue 19: W2's records sorted by amount then id on the engine (2 workers, and 1),
 * against B0-sort — one fresh thread's `Array.prototype.sort` of the same records, made in that
 * thread — and DuckDB's `ORDER BY`, in the same run. S1-large: 100M records, for peak RSS.
 */
import { expectedSorted } from '../checksum.js';
import { duckdbInstalled, runDuckdb } from '../duckdb.js';
import { isolated } from '../isolated.js';
import type { Result } from '../report.js';
import { interleave, measureOnce, ratioOf, rowMaker, rowsOf, type Config, type Ratio } from '../rounds.js';
import { W2_KEYS } from '../w2/records.js';

const ROWS = new URL('./rows.js', import.meta.url);

/** S1's rows in `rounds` interleaved rounds, and its ratios. */
export async function runS1(n: number, rounds = 3): Promise<Result> {
  const want = expectedSorted(n);
  const row = rowMaker(n, want);
  const configs: Config[] = [
    row('b0', 'B0-sort (1 fresh thread: make the records, Array.sort by amount then id)', isolated(ROWS, 'b0Sort', n)),
    row('w1', 'sort by (amount, id), P = 128, 1 worker', isolated(ROWS, 'engineSort', n, 1), 'b0'),
    row('w2', 'sort by (amount, id), P = 128, 2 workers', isolated(ROWS, 'engineSort', n, 2), 'b0'),
    row('f2', 'same order: sort by the field amount (stable), 2 workers', isolated(ROWS, 'engineSort', n, 2, 'amount'), 'b0'),
  ];
  // DuckDB's rows stay in DuckDB (CREATE TABLE … ORDER BY): its checksum is the totals.
  if (duckdbInstalled())
    configs.push({
      ...row(
        'duckdb',
        'DuckDB 2 threads: make (table) + ORDER BY amount, id',
        () => runDuckdb({ kind: 'sort', records: n, keys: W2_KEYS }),
        'w2',
        'duckdb',
      ),
      want: { ...want, order: undefined },
    });
  const runs = await interleave('S1', configs, rounds);
  const ratios: Ratio[] = [{ label: 'S1: 2 workers ÷ B0-sort', value: ratioOf(runs, 'w2', 'b0')!, target: 1 }];
  const duck = ratioOf(runs, 'w2', 'duckdb');
  if (duck !== undefined) ratios.push({ label: 'S1: 2 workers ÷ DuckDB (make + ORDER BY)', value: duck });
  return { rows: rowsOf(configs, runs), ratios };
}

/** S1-large: `n` (100M) records sorted by the engine, 2 workers, once: its time and peak RSS (target ≤ 2 GiB). */
export async function runS1Large(n: number): Promise<Result> {
  const c = rowMaker(n, expectedSorted(n))('w2', 'sort by (amount, id), P = 128, 2 workers', isolated(ROWS, 'engineSort', n, 2));
  const m = await measureOnce(c);
  const runs = new Map([['w2', [m]]]);
  return { rows: rowsOf([c], runs), ratios: [{ label: 'S1-large: peak RSS ÷ 2 GiB', value: m.peakRss / 2 ** 31, target: 1 }] };
}
