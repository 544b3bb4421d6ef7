/**
 * The join workloads (docs/benchmarks.md), in the same run: J1, W2's records joined with a
 * dimension table of 100,000 rows on `key`, and J2, W2's records joined with themselves on
 * `id` (both sides big), each against B0-join (one fresh thread, a Map of the right side, the
 * left streamed past it) and DuckDB's join; J2 also reports peak RSS (the target:
 * 1 GiB), which B0-join's Map of every record does not meet.
 */
import { duckdbInstalled, runDuckdb } from '../duckdb.js';
import { isolated } from '../isolated.js';
import type { Result } from '../report.js';
import { interleave, ratioOf, rowMaker, rowsOf, type Config, type Ratio } from '../rounds.js';
import { W2_KEYS } from '../w2/records.js';
import { expectedJoin, type JoinWorkload } from './records.js';

const ROWS = new URL('./rows.js', import.meta.url);
const GiB = 2 ** 30;

/** One join workload's rows in `rounds` interleaved rounds, and its ratios. */
async function runJoin(workload: JoinWorkload, n: number, rounds: number): Promise<Result> {
  const label = workload.toUpperCase();
  const row = rowMaker(n, expectedJoin(n, workload));
  const configs: Config[] = [
    row('b0', 'B0-join (1 fresh thread, a Map of the right side)', isolated(ROWS, 'b0Join', n, workload)),
    row('w1', 'join, 1 worker', isolated(ROWS, 'joined', n, workload, 1), 'b0'),
    row('w2', 'join, 2 workers', isolated(ROWS, 'joined', n, workload, 2), 'b0'),
  ];
  if (duckdbInstalled())
    configs.push(
      row(
        'duckdb',
        'DuckDB 2 threads: make (tables) + JOIN',
        () => runDuckdb({ kind: 'join', records: n, keys: W2_KEYS, workload }),
        'w2',
        'duckdb',
      ),
    );
  const runs = await interleave(label, configs, rounds);
  const peak = (id: string) => Math.max(...(runs.get(id) ?? []).map((m) => m.peakRss));
  const ratios: Ratio[] = [
    { label: `${label}: 2 workers ÷ B0-join`, value: ratioOf(runs, 'w2', 'b0')!, target: workload === 'j1' ? 1 : undefined },
  ];
  const duck = ratioOf(runs, 'w2', 'duckdb');
  if (duck !== undefined) ratios.push({ label: `${label}: 2 workers ÷ DuckDB (make + join)`, value: duck });
  if (workload === 'j2') {
    ratios.push({ label: 'J2: peak RSS, 2 workers (own process) ÷ 1 GiB', value: peak('w2') / GiB, target: 1 });
    ratios.push({ label: 'J2: peak RSS of B0-join ÷ 1 GiB', value: peak('b0') / GiB });
  }
  return { rows: rowsOf(configs, runs), ratios };
}

/** J1: W2's records joined with the 100,000-row dimension table on key. */
export const runJ1 = (n: number, rounds = 3): Promise<Result> => runJoin('j1', n, rounds);
/** J2: W2's records joined with themselves on id. */
export const runJ2 = (n: number, rounds = 3): Promise<Result> => runJoin('j2', n, rounds);
