/**
 * W2 of shared/workloads.md: N generated records, shuffled into 128 partitions by key and
 * grouped (count, sum of amount), against B0 — one thread folding the same records into a
 * Map — in the same run. W3 is W2 with N = 100M.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { groupBy } from '../../src/index.js';
import { median, type Row } from '../report.js';
import { baseline, baselineThreads, type Checksum } from './baseline.js';

const GENERATOR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'records.js');

/** Peak RSS of the process (all threads) while `fn` runs, sampled every 20 ms. */
async function withPeakRss<T>(fn: () => Promise<T>): Promise<[T, number]> {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
  try {
    const value = await fn();
    return [value, Math.max(peak, process.memoryUsage.rss())];
  } finally {
    clearInterval(timer);
  }
}

/** How the workers make the records: a generator over their index range, or one call per index. */
type Form = 'generate' | 'make';

async function shuffled(n: number, workers: number, form: Form = 'generate'): Promise<Checksum> {
  const groups = await groupBy({
    input:
      form === 'make'
        ? { make: { module: GENERATOR, export: 'w2Record' }, count: n }
        : { generate: { module: GENERATOR, export: 'range' }, count: n },
    key: 'key',
    partitions: 128,
    workers,
    aggregate: { count: { op: 'count' }, sum_amount: { op: 'sum', field: 'amount' } },
  });
  let count = 0;
  let sum = 0;
  for (const g of groups.values()) ((count += g.count as number), (sum += g.sum_amount as number));
  return { groups: groups.size, count, sum };
}

/** The published checksum when N is 10M or 100M, else B0's. */
function expected(n: number, b0: Checksum): Checksum {
  if (n === 10_000_000) return { groups: 100_000, count: n, sum: 499_500_000 };
  if (n === 100_000_000) return { groups: 100_000, count: n, sum: 4_995_000_000 };
  return b0;
}

const matches = (a: Checksum, b: Checksum) =>
  a.groups === b.groups && a.count === b.count && Math.abs(a.sum - b.sum) <= 1e-6 * Math.abs(b.sum);

interface Measured {
  row: Row;
  seconds: number;
  sum: Checksum;
}

async function measure(name: string, n: number, fn: () => Promise<Checksum> | Checksum, want?: Checksum): Promise<Measured> {
  const t0 = performance.now();
  const [sum, rss] = await withPeakRss(async () => fn());
  const seconds = (performance.now() - t0) / 1000;
  const row: Row = {
    name,
    records: n,
    seconds,
    records_per_s: Math.round(n / seconds),
    peak_rss_MiB: Math.round(rss / 2 ** 20),
    groups: sum.groups,
    checksum_ok: want ? matches(sum, want) : null,
  };
  return { row, seconds, sum };
}

/**
 * W2 rows: B0, then the shuffle with 1 and 2 workers, in `rounds` interleaved rounds (this
 * VM's speed drifts by tens of percent within minutes). Times are medians over the rounds;
 * ratios are medians of each round's own ratio, so both sides of a ratio ran minutes apart at most.
 */
export async function runW2(n: number, rounds = 3): Promise<Row[]> {
  // [name, workers, input form, index of the 1-worker config of the same form]
  const configs: [string, number, Form, number][] = [
    ['B0 (1 thread, Map, no shuffle)', 0, 'generate', 0],
    ['B0 halves in 2 threads at once (the ceiling)', -2, 'generate', 0],
    ['shuffle+groupBy, 1 worker', 1, 'generate', 2],
    ['shuffle+groupBy, 2 workers', 2, 'generate', 2],
    ['same, input make: (i) => record, 1 worker', 1, 'make', 4],
    ['same, input make: (i) => record, 2 workers', 2, 'make', 4],
  ];
  const runs: Measured[][] = configs.map(() => []);
  let want: Checksum | undefined;
  for (let round = 0; round < rounds; round++) {
    for (const [c, [name, workers, form]] of configs.entries()) {
      const m = await measure(
        name,
        n,
        () => (workers === 0 ? baseline(0, n) : workers < 0 ? baselineThreads(n, -workers) : shuffled(n, workers, form)),
        workers < 0 ? undefined : want,
      );
      if (workers === 0) m.row.checksum_ok = matches(m.sum, (want ??= expected(n, m.sum)));
      runs[c]!.push(m);
    }
    console.error(`W2: round ${round + 1} of ${rounds} done`);
  }
  const perRound = (c: number, f: (m: Measured, round: number) => number) => median(runs[c]!.map(f));
  return configs.map(([, workers, , one], c) => {
    const ms = runs[c]!;
    const seconds = perRound(c, (m) => m.seconds);
    return {
      ...ms[0]!.row,
      seconds,
      min_s: Math.min(...ms.map((m) => m.seconds)),
      max_s: Math.max(...ms.map((m) => m.seconds)),
      records_per_s: Math.round(n / seconds),
      peak_rss_MiB: Math.max(...ms.map((m) => m.row.peak_rss_MiB as number)),
      checksum_ok: workers < 0 ? null : ms.every((m) => m.row.checksum_ok === true),
      x_B0_time: perRound(c, (m, r) => m.seconds / runs[0]![r]!.seconds),
      speedup_vs_1_thread: workers === 0 ? null : perRound(c, (m, r) => runs[one]![r]!.seconds / m.seconds),
    };
  });
}

/** W3: W2 at N = 100M with 2 workers, against 10x the W2 time of the same run. */
export async function runW3(n: number): Promise<Row[]> {
  const w2 = await measure(
    'W2 (10M), 2 workers',
    10_000_000,
    () => shuffled(10_000_000, 2),
    expected(10_000_000, { groups: 0, count: 0, sum: 0 }),
  );
  console.error('W3: W2 reference done');
  const w3 = await measure(
    `W3 (${n / 1e6}M), 2 workers`,
    n,
    () => shuffled(n, 2),
    expected(n, { groups: 100_000, count: n, sum: sumOfAmounts(n) }),
  );
  return [w2, w3].map((m) => ({ ...m.row, x_10_W2_time: m.seconds / (10 * w2.seconds) }));
}

/** Σ (i mod 1000)/10 for i < n. */
function sumOfAmounts(n: number): number {
  const full = Math.floor(n / 1000);
  const rest = n % 1000;
  return (full * 499_500 + (rest * (rest - 1)) / 2) / 10;
}
