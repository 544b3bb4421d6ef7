/**
 * W5 of shared/workloads.md, the full shuffle: W2's records `shuffle`d into 128 partitions with
 * no combining (every record written to the store and read back), each partition then folded in
 * the workers by a gather reducer; against B0-partition (one fresh thread, arrays per
 * partition), its two halves in two fresh threads at once (the ceiling) and DuckDB's
 * partitioned Parquet write, in the same run.
 */
import { expected } from '../checksum.js';
import { duckdbInstalled, runDuckdb } from '../duckdb.js';
import type { Result } from '../report.js';
import { isolated } from '../isolated.js';
import { rowMaker, interleave, ratioOf, rowsOf, type Config, type Ratio } from '../rounds.js';
import { W2_KEYS } from '../w2/records.js';
import { P } from './rows.js';

const ROWS = new URL('./rows.js', import.meta.url);

/** W5's rows in `rounds` interleaved rounds, and its ratios. */
export async function runW5(n: number, rounds = 3): Promise<Result> {
  const want = expected(n, W2_KEYS, P);
  const row = rowMaker(n, want);
  const configs: Config[] = [
    row('b0', 'B0-partition (1 fresh thread, arrays per partition)', isolated(ROWS, 'b0Partition', n, 1)),
    row('ceiling', 'B0-partition halves in 2 fresh threads at once (the ceiling)', isolated(ROWS, 'b0Partition', n, 2), 'b0'),
    row('w1', 'shuffle (no combine) + gather fold, 1 worker', isolated(ROWS, 'fullShuffle', n, 1), 'b0'),
    row('w2', 'shuffle (no combine) + gather fold, 2 workers', isolated(ROWS, 'fullShuffle', n, 2), 'b0'),
  ];
  // DuckDB's partitions are by its own hash: its checksum is the totals and the partition count.
  if (duckdbInstalled())
    configs.push({
      ...row(
        'duckdb',
        'DuckDB 2 threads: make (table) + COPY PARTITION_BY parquet + read back',
        () => runDuckdb({ kind: 'partition', records: n, keys: W2_KEYS, partitions: P }),
        'w2',
        'duckdb',
      ),
      want: { ...want, parts: undefined },
    });
  const runs = await interleave('W5', configs, rounds);
  const speedup = (a: string, b: string) => ratioOf(runs, a, b, (x, y) => y.seconds / x.seconds);
  const peak = Math.max(...runs.get('w2')!.map((m) => m.peakRss));
  const ratios: Ratio[] = [
    { label: 'W5: 2 workers ÷ B0-partition', value: ratioOf(runs, 'w2', 'b0')!, target: 0.8 },
    { label: 'W5: 2 workers ÷ the ceiling', value: ratioOf(runs, 'w2', 'ceiling')! },
    {
      label: "W5: 1→2 workers' speedup ÷ the ceiling's",
      value: speedup('w2', 'w1')! / speedup('ceiling', 'b0')!,
      target: 0.9,
      better: 'higher',
    },
    { label: 'W5: peak RSS, 2 workers (own process) ÷ 400 MiB', value: peak / (400 * 2 ** 20), target: 1 },
  ];
  const duck = ratioOf(runs, 'w2', 'duckdb');
  if (duck !== undefined) ratios.push({ label: 'W5: 2 workers ÷ DuckDB (make + COPY + read)', value: duck });
  return { rows: rowsOf(configs, runs), ratios };
}
