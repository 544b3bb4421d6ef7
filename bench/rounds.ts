/**
 * Rows measured in interleaved rounds (this VM's speed drifts by tens of percent within
 * minutes): every round runs every row once, each checked against its checksum (a wrong one
 * throws). A row reports its median seconds; a ratio is the median of each round's own ratio,
 * so both sides of it ran minutes apart at most.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { verify, type Checksum } from './checksum.js';
import { median, type Row } from './report.js';

/** What one run of a row gives back. */
export interface Outcome {
  checksum: Checksum;
  /** Seconds of its phases (scatter, gather; make, group), shown as `<phase>_s` columns. */
  phases?: Record<string, number>;
  /** The row's seconds where it times itself (a child process: without its start); else the wall time of `run`. */
  seconds?: number;
  /** Peak RSS in bytes where measured elsewhere (a row in a process of its own); else sampled in this process. */
  peakRss?: number;
}

/** One row of a workload. */
export interface Config {
  /** A short name the ratios use. */
  id: string;
  name: string;
  /** `duckdb` for a peer's row. */
  peer?: string;
  records: number;
  run: () => Promise<Outcome>;
  want: Checksum;
  /** The id of the row this one is measured against (`x_against`: this row's time ÷ that row's). */
  against?: string;
}

/** A maker of a workload's rows, all of `records` records and one checksum. */
export function rowMaker(records: number, want: Checksum) {
  return (id: string, name: string, run: Config['run'], against?: string, peer?: string): Config => ({
    id,
    name,
    run,
    against,
    peer,
    records,
    want,
  });
}

/** One run of a row. */
export interface Measured {
  seconds: number;
  peakRss: number;
  outcome: Outcome;
}

/** A ratio of the run, for the table of ratios and the chart. */
export interface Ratio {
  label: string;
  value: number;
  /** The target, if any, and which side of it is good (default: lower). */
  target?: number;
  better?: 'lower' | 'higher';
}

/** A full garbage collection (the flag is set at run time, so `node dist/bench/index.js` needs no option). */
export const collectGarbage: () => void = (() => {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
})();

/** Peak RSS of the process (all threads) while `fn` runs, sampled every 20 ms. */
export async function withPeakRss<T>(fn: () => Promise<T>): Promise<[T, number]> {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
  try {
    const value = await fn();
    return [value, Math.max(peak, process.memoryUsage.rss())];
  } finally {
    clearInterval(timer);
  }
}

/** Runs one row once and checks its checksum. */
export async function measureOnce(c: Config): Promise<Measured> {
  collectGarbage();
  const t0 = performance.now();
  const [outcome, rss] = await withPeakRss(c.run);
  const wall = (performance.now() - t0) / 1000;
  verify(c.name, outcome.checksum, c.want);
  return { seconds: outcome.seconds ?? wall, peakRss: outcome.peakRss ?? rss, outcome };
}

/** The runs of every row, by id, in `rounds` interleaved rounds. */
export async function interleave(label: string, configs: Config[], rounds: number): Promise<Map<string, Measured[]>> {
  const runs = new Map<string, Measured[]>(configs.map((c) => [c.id, []]));
  for (let round = 0; round < rounds; round++) {
    for (const c of configs) runs.get(c.id)!.push(await measureOnce(c));
    console.error(`${label}: round ${round + 1} of ${rounds} done`);
  }
  return runs;
}

/** The median over rounds of `f(a's run, b's run)` (default: a's seconds ÷ b's), or undefined when either row did not run. */
export function ratioOf(
  runs: Map<string, Measured[]>,
  a: string,
  b: string,
  f: (x: Measured, y: Measured) => number = (x, y) => x.seconds / y.seconds,
): number | undefined {
  const xs = runs.get(a);
  const ys = runs.get(b);
  if (!xs?.length || !ys?.length) return undefined;
  return median(xs.map((x, r) => f(x, ys[Math.min(r, ys.length - 1)]!)));
}

/** The table's rows: medians, spread, records/s, the highest peak RSS, the checks passed, the phases and the ratio to `against`. */
export function rowsOf(configs: Config[], runs: Map<string, Measured[]>): Row[] {
  return configs.flatMap((c) => {
    const ms = runs.get(c.id) ?? [];
    if (ms.length === 0) return [];
    const seconds = median(ms.map((m) => m.seconds));
    const phases = Object.fromEntries(
      Object.keys(ms[0]!.outcome.phases ?? {}).map((p) => [`${p}_s`, median(ms.map((m) => m.outcome.phases?.[p] ?? NaN))]),
    );
    return [
      {
        name: c.name,
        peer: c.peer ?? null,
        records: c.records,
        seconds,
        min_s: Math.min(...ms.map((m) => m.seconds)),
        max_s: Math.max(...ms.map((m) => m.seconds)),
        records_per_s: Math.round(c.records / seconds),
        peak_rss_MiB: Math.round(Math.max(...ms.map((m) => m.peakRss)) / 2 ** 20),
        groups: ms[0]!.outcome.checksum.groups ?? null,
        checksum_ok: true, // measureOnce threw otherwise
        runs: ms.length,
        ...phases,
        against: c.against ?? null,
        x_against: c.against ? (ratioOf(runs, c.id, c.against) ?? null) : null,
      },
    ];
  });
}

/** The ratios as rows for the table: value, target, met. */
export function ratioRows(ratios: Ratio[]): Row[] {
  return ratios.map((r) => ({
    name: r.label,
    ratio: r.value,
    target: r.target === undefined ? null : `${r.better === 'higher' ? '≥' : '≤'} ${r.target}`,
    met: r.target === undefined ? null : r.better === 'higher' ? r.value >= r.target : r.value <= r.target,
  }));
}
