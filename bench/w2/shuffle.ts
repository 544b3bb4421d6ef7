/**
 * W2 of shared/workloads.md: N generated records, shuffled into 128 partitions by key and
 * grouped (count, sum of amount), against B0 — one thread folding the same records into a
 * Map — in the same run. W3 is W2 with N = 100M.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { groupBy } from '../../src/index.js';
import type { Row } from '../report.js';
import { w2Record } from './records.js';

const GENERATOR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'records.js');

/** Totals that identify a grouping. */
interface Checksum {
  groups: number;
  count: number;
  sum: number;
}

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

/** B0: one thread, no shuffle, no store. */
function baseline(n: number): Checksum {
  const groups = new Map<string, { count: number; sum: number }>();
  for (let i = 0; i < n; i++) {
    const r = w2Record(i);
    const g = groups.get(r.key);
    if (g) {
      g.count++;
      g.sum += r.amount;
    } else groups.set(r.key, { count: 1, sum: r.amount });
  }
  let count = 0;
  let sum = 0;
  for (const g of groups.values()) (count += g.count), (sum += g.sum);
  return { groups: groups.size, count, sum };
}

async function shuffled(n: number, workers: number): Promise<Checksum> {
  const groups = await groupBy({
    input: { generate: { module: GENERATOR, export: 'range' }, count: n },
    key: 'key',
    partitions: 128,
    workers,
    aggregate: { count: { op: 'count' }, sum_amount: { op: 'sum', field: 'amount' } },
  });
  let count = 0;
  let sum = 0;
  for (const g of groups.values()) (count += g.count as number), (sum += g.sum_amount as number);
  return { groups: groups.size, count, sum };
}

/** The published checksum when N is 10M or 100M, else B0's. */
function expected(n: number, b0: Checksum): Checksum {
  if (n === 10_000_000) return { groups: 100_000, count: n, sum: 499_500_000 };
  if (n === 100_000_000) return { groups: 100_000, count: n, sum: 4_995_000_000 };
  return b0;
}

const matches = (a: Checksum, b: Checksum) => a.groups === b.groups && a.count === b.count && Math.abs(a.sum - b.sum) <= 1e-6 * Math.abs(b.sum);

interface Measured {
  row: Row;
  seconds: number;
  sum: Checksum;
}

async function measure(name: string, n: number, fn: () => Promise<Checksum> | Checksum, want?: Checksum): Promise<Measured> {
  const t0 = performance.now();
  const [sum, rss] = await withPeakRss(async () => fn());
  const seconds = (performance.now() - t0) / 1000;
  const row: Row = { name, records: n, seconds, records_per_s: Math.round(n / seconds), peak_rss_MiB: Math.round(rss / 2 ** 20), groups: sum.groups, checksum_ok: want ? matches(sum, want) : null };
  return { row, seconds, sum };
}

/** W2 rows: B0, then the shuffle with 1 and 2 workers. */
export async function runW2(n: number): Promise<Row[]> {
  const b0 = await measure('B0 (1 thread, Map, no shuffle)', n, () => baseline(n));
  const want = expected(n, b0.sum);
  b0.row.checksum_ok = matches(b0.sum, want);
  const rows = [b0];
  for (const workers of [1, 2]) {
    rows.push(await measure(`shuffle+groupBy, ${workers} worker${workers > 1 ? 's' : ''}`, n, () => shuffled(n, workers), want));
    console.error(`W2: ${workers} worker(s) done`);
  }
  const one = rows[1]!.seconds;
  return rows.map((m) => ({ ...m.row, x_B0_time: m.seconds / b0.seconds, speedup_vs_1_worker: one / m.seconds }));
}

/** W3: W2 at N = 100M with 2 workers, against 10x the W2 time of the same run. */
export async function runW3(n: number): Promise<Row[]> {
  const w2 = await measure('W2 (10M), 2 workers', 10_000_000, () => shuffled(10_000_000, 2), expected(10_000_000, { groups: 0, count: 0, sum: 0 }));
  console.error('W3: W2 reference done');
  const w3 = await measure(`W3 (${n / 1e6}M), 2 workers`, n, () => shuffled(n, 2), expected(n, { groups: 100_000, count: n, sum: sumOfAmounts(n) }));
  return [w2, w3].map((m) => ({ ...m.row, x_10_W2_time: m.seconds / (10 * w2.seconds) }));
}

/** Σ (i mod 1000)/10 for i < n. */
function sumOfAmounts(n: number): number {
  const full = Math.floor(n / 1000);
  const rest = n % 1000;
  return (full * 499_500 + (rest * (rest - 1)) / 2) / 10;
}
