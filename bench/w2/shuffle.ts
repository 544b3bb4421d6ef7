/**
 * W2 of shared/workloads.md: N generated records, shuffled into 128 partitions by key and
 * grouped (count, sum of amount), against B0 — one fresh thread folding the same records into
 * a Map — its two halves in two threads at once (the ceiling), and DuckDB, in the same run.
 * W3 is W2 with N = 100M.
 */
import { expected } from '../checksum.js';
import { duckdbGroupRatio, duckdbGroupRows } from '../duckdb.js';
import { isolated } from '../isolated.js';
import type { Result } from '../report.js';
import { rowMaker, interleave, measureOnce, ratioOf, rowsOf, type Config, type Ratio } from '../rounds.js';
import { W2_KEYS } from './records.js';

const BASELINE = new URL('./baseline.js', import.meta.url);
const ENGINE = new URL('../engine.js', import.meta.url);

/** W2's rows in `rounds` interleaved rounds, and its ratios. */
export async function runW2(n: number, rounds = 3): Promise<Result> {
  const want = expected(n, W2_KEYS);
  const row = rowMaker(n, want);
  const configs: Config[] = [
    row('b0', 'B0 (1 fresh thread, Map, no shuffle)', isolated(BASELINE, 'b0', n, W2_KEYS)),
    row('ceiling', 'B0 halves in 2 fresh threads at once (the ceiling)', isolated(BASELINE, 'b0', n, W2_KEYS, 2), 'b0'),
    row('w1', 'shuffle+groupBy, 1 worker', isolated(ENGINE, 'grouped', n, W2_KEYS, 1), 'b0'),
    row('w2', 'shuffle+groupBy, 2 workers', isolated(ENGINE, 'grouped', n, W2_KEYS, 2), 'b0'),
    row('m1', 'same, input make: (i) => record, 1 worker', isolated(ENGINE, 'grouped', n, W2_KEYS, 1, 'make'), 'b0'),
    row('m2', 'same, input make: (i) => record, 2 workers', isolated(ENGINE, 'grouped', n, W2_KEYS, 2, 'make'), 'b0'),
  ];
  configs.push(...duckdbGroupRows(row, n, W2_KEYS));
  const runs = await interleave('W2', configs, rounds);
  const speedup = (a: string, b: string) => ratioOf(runs, a, b, (x, y) => y.seconds / x.seconds);
  const ratios: Ratio[] = [
    { label: 'W2: 2 workers ÷ the ceiling', value: ratioOf(runs, 'w2', 'ceiling')!, target: 1.15 },
    { label: 'W2: 2 workers ÷ B0', value: ratioOf(runs, 'w2', 'b0')!, target: 0.8 },
    { label: "W2: 1→2 workers' speedup ÷ the ceiling's", value: speedup('w2', 'w1')! / speedup('ceiling', 'b0')!, better: 'higher' },
  ];
  ratios.push(...duckdbGroupRatio(runs, 'W2'));
  return { rows: rowsOf(configs, runs), ratios };
}

/** W3: W2 at N = 100M with 2 workers, against 10x the W2 time of the same run. */
export async function runW3(n: number): Promise<Result> {
  const w2 = await measureOnce({
    id: 'w2',
    name: 'W2 (10M), 2 workers',
    records: 10_000_000,
    run: isolated(ENGINE, 'grouped', 10_000_000, W2_KEYS, 2),
    want: expected(10_000_000, W2_KEYS),
  });
  console.error('W3: W2 reference done');
  const w3 = await measureOnce({
    id: 'w3',
    name: `W3 (${n / 1e6}M), 2 workers`,
    records: n,
    run: isolated(ENGINE, 'grouped', n, W2_KEYS, 2),
    want: expected(n, W2_KEYS),
  });
  const rows = [
    { name: 'W2 (10M), 2 workers', records: 10_000_000, m: w2 },
    { name: `W3 (${n / 1e6}M), 2 workers`, records: n, m: w3 },
  ].map(({ name, records, m }) => ({
    name,
    records,
    seconds: m.seconds,
    records_per_s: Math.round(records / m.seconds),
    peak_rss_MiB: Math.round(m.peakRss / 2 ** 20),
    groups: m.outcome.checksum.groups ?? null,
    checksum_ok: true,
    x_10_W2_time: m.seconds / (10 * w2.seconds),
  }));
  return {
    rows,
    ratios: [
      { label: 'W3: time ÷ 10 × W2', value: w3.seconds / (10 * w2.seconds), target: 1.1 },
      { label: 'W3: peak RSS ÷ 1.5 GiB', value: w3.peakRss / 1.5 / 2 ** 30, target: 1 },
    ],
  };
}
