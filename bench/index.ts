/**
 * The benchmark harness:
 * `npm run bench -- [w1] [w1-large] [shuffle|w2] [w3] [w4] [w5] [w6] [w6-large] [sort|s1] [s1-large] [join|j1 j2] [cluster] [--only NAME,...] [--records N] [--rounds R] [--chart FILE.svg]`.
 * Runs the workloads of shared/workloads.md and prints a table and JSON lines per result,
 * with ratios against baselines and peers measured in the same run (`--chart`: those ratios drawn).
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { Dict, File, Lmdb, LZ4, Spill, type Partd } from '../src/index.js';
import { writeChart, type Section } from './chart.js';
import { duckdbInstalled } from './duckdb.js';
import { median, report, type Result, type Row } from './report.js';
import { collectGarbage, ratioRows } from './rounds.js';
import { W1, W1_LARGE, runDiskCeiling, runPythonPartd, runW1, type W1Shape } from './w1.js';
import { runW2, runW3 } from './w2/shuffle.js';
import { runW4 } from './w4/index.js';
import { runW5 } from './w5/index.js';
import { runW6, runW6Large } from './w6/index.js';
import { runS1, runS1Large } from './s1/index.js';
import { runJ1, runJ2 } from './join/index.js';
import { runCluster } from './cluster/index.js';

const MB100 = 100e6;
/** The stores of W1; `durable`: its commits fsync (see `w1` for why that matters to the order). */
const stores: [string, () => Partd, { durable?: boolean }?][] = [
  ['Dict', () => new Dict()],
  ['File', () => new File()],
  ['Lmdb() (temporary: noSync)', () => new Lmdb()],
  ['Lmdb(dir) (at a path: synced commits)', () => new Lmdb(undefined, { noSync: false }), { durable: true }],
  ['Spill(Dict, Lmdb, 100 MB)', () => new Spill(new Dict(), new Lmdb(), MB100)],
  ['Spill(Dict, File, 100 MB)', () => new Spill(new Dict(), new File(), MB100)],
  ['LZ4(Lmdb)', () => new LZ4(new Lmdb())],
];

/** W1 rows faster than this are measured in every round (medians); slower ones (the File stores) once. */
const REPEAT_UNDER_S = 5;

/**
 * W1 or W1-large for every store and, when installed, Python partd — in `rounds` interleaved
 * rounds for the fast rows, as this VM drifts within minutes. A row reports its median run;
 * ratios are medians of each round's own ratio to the Python row of that round.
 */
async function w1(title: string, shape: W1Shape, only: string[] | undefined, rounds: number): Promise<void> {
  type Config = { name: string; run: () => Promise<Row | null>; durable?: boolean };
  const configs: Config[] = [
    { name: 'python File', run: async () => runPythonPartd('File', shape) },
    { name: 'python Buffer', run: async () => runPythonPartd('Buffer', shape) },
    ...(shape === W1_LARGE ? [{ name: 'disk', run: async () => runDiskCeiling(shape), durable: true }] : []),
    ...stores
      .filter(([name]) => (!only || only.some((o) => name.includes(o))) && !(shape === W1_LARGE && name === 'Dict')) // 2 GB in memory says nothing about disk stores
      .map(([name, make, how]) => ({ name, run: () => runW1(name, make, shape), durable: how?.durable })),
  ];
  const runs = new Map<string, Row[]>();
  // Rows that fsync go after all the others: once their files are deleted, whatever row ran next
  // was slowed for seconds (0.5 s became 0.7-2.7 s on W1-large, even after waiting 10 s, with
  // the guest's disk idle), presumably the host discarding the freed blocks (`discard` mount).
  for (const phase of [configs.filter((c) => !c.durable), configs.filter((c) => c.durable)]) {
    for (let round = 0; round < rounds; round++) {
      for (const { name, run } of phase) {
        const done = runs.get(name);
        if (round > 0 && (!done || (done[0]!.append_s as number) >= REPEAT_UNDER_S)) continue;
        // Every row starts with no dirty pages and no garbage: else it pays for writing back the
        // previous row's 2 GB, or for the collector freeing the 2 GB its `get` returned, which
        // made rows that write in the threadpool take 0.5-2.8 s instead of 0.4-0.6 s.
        execFileSync('sync');
        collectGarbage();
        const row = await run();
        if (row) runs.set(name, [...(done ?? []), row]);
      }
      if (phase.length > 0) console.error(`${title}: ${phase[0]!.durable ? 'rows that fsync, ' : ''}round ${round + 1} of ${rounds} done`);
    }
  }
  const pyFile = runs.get('python File');
  const pyBuf = runs.get('python Buffer');
  if (!pyFile) console.error('(python3-partd not installed: no same-run Python baseline; `apt-get install python3-partd` adds it)');
  const rate = (r: Row) => r.appends_per_s as number;
  const ratio = (rs: Row[], base: Row[] | undefined) =>
    base ? median(rs.map((r, i) => rate(r) / rate(base[Math.min(i, base.length - 1)]!))) : undefined;
  const rows = configs
    .filter(({ name }) => runs.has(name))
    .map(({ name }) => {
      // in config order, not run order
      const rs = runs.get(name)!;
      const mid = [...rs].sort((x, y) => (x.append_s as number) - (y.append_s as number))[(rs.length - 1) >> 1]!;
      const appendS = rs.map((r) => r.append_s as number);
      return {
        ...mid,
        runs: rs.length,
        min_s: Math.min(...appendS),
        max_s: Math.max(...appendS),
        x_partd_File: ratio(rs, pyFile) ?? null,
        x_partd_Buffer: ratio(rs, pyBuf) ?? null,
      };
    });
  report(title, rows);
}

/** The record workloads: their title for N records, their default N, how they run. */
const RECORD_WORKLOADS: Record<string, { title: (n: number) => string; n: number; run: (n: number, rounds: number) => Promise<Result> }> = {
  w2: { title: (n) => `W2 shuffle + groupBy (${n} records, P = 128)`, n: 10_000_000, run: runW2 },
  w3: { title: (n) => `W3 (${n} records, P = 128)`, n: 100_000_000, run: (n) => runW3(n) },
  w4: { title: (n) => `W4 groupby of files (${n} records)`, n: 5_000_000, run: runW4 },
  w5: { title: (n) => `W5 full shuffle, no combine (${n} records, P = 128)`, n: 10_000_000, run: runW5 },
  w6: { title: (n) => `W6 many groups (${n} records, 5M keys)`, n: 10_000_000, run: runW6 },
  'w6-large': { title: (n) => `W6-large (${n} records, 20M keys, streamed to NDJSON)`, n: 100_000_000, run: (n) => runW6Large(n) },
  s1: { title: (n) => `S1 sort by amount then id (${n} records, P = 128)`, n: 10_000_000, run: runS1 },
  's1-large': { title: (n) => `S1-large sort (${n} records, P = 128, peak RSS)`, n: 100_000_000, run: (n) => runS1Large(n) },
  j1: { title: (n) => `J1 join (${n} records ⋈ 100k-row dimension table on key, inner)`, n: 10_000_000, run: runJ1 },
  j2: { title: (n) => `J2 self-join (${n} ⋈ ${n} records on id, inner)`, n: 10_000_000, run: runJ2 },
  cluster: { title: (n) => `cluster: W2 and W5 (${n} records) through partd worker processes and Redis`, n: 10_000_000, run: runCluster },
};
/** Names that stand for several workloads. */
const ALIASES: Record<string, string[]> = { shuffle: ['w2'], sort: ['s1'], join: ['j1', 'j2'] };

/** Runs the workloads named in `argv` (default: w1, w1-large, shuffle). */
export async function runBench(argv: string[]): Promise<void> {
  const args = [...argv];
  const option = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args.splice(i, 2)[1] : undefined;
  };
  const only = option('--only')?.split(',');
  const chart = option('--chart');
  const roundsArg = option('--rounds');
  const rounds = roundsArg === undefined ? 3 : Number(roundsArg);
  if (!Number.isSafeInteger(rounds) || rounds < 1) throw new RangeError(`--rounds: expected a positive integer, got ${roundsArg}`);
  const recordsArg = option('--records');
  const records = recordsArg === undefined ? undefined : Number(recordsArg);
  if (records !== undefined && (!Number.isSafeInteger(records) || records < 1))
    throw new RangeError(`--records: expected a positive integer, got ${recordsArg}`);
  const todo = (args.length ? args : ['w1', 'w1-large', 'shuffle']).flatMap((w) => ALIASES[w] ?? [w]);
  const unknown = todo.filter((w) => !['w1', 'w1-large', ...Object.keys(RECORD_WORKLOADS)].includes(w));
  if (unknown.length > 0)
    throw new RangeError(
      `workload: unknown ${JSON.stringify(unknown[0])}; expected w1, w1-large, shuffle (w2), w3, w4, w5, w6, w6-large, sort (s1), s1-large, j1, j2, join (j1 and j2) or cluster`,
    );
  if (!duckdbInstalled() && todo.some((w) => ['w2', 'w4', 'w5', 'w6', 's1', 'j1', 'j2'].includes(w)))
    console.error('(@duckdb/node-api is not installed: no DuckDB rows; `npm install` with the devDependencies adds them)');
  const sections: Section[] = [];
  for (const w of todo) {
    if (w === 'w1') await w1('W1 (1000 keys x 100 B x 2000 rounds)', W1, only, rounds);
    else if (w === 'w1-large') await w1('W1-large (100 keys x 100 kB x 200 rounds)', W1_LARGE, only, rounds);
    else {
      const spec = RECORD_WORKLOADS[w]!;
      const title = spec.title(records ?? spec.n);
      const { rows, ratios } = await spec.run(records ?? spec.n, rounds);
      report(title, rows);
      if (ratios.length > 0) report(`${title}: ratios`, ratioRows(ratios));
      sections.push({ workload: title, ratios });
    }
  }
  if (chart) {
    const day = new Date().toISOString().slice(0, 10);
    const scaled = records === undefined ? '' : `, scaled down: --records ${records} for every workload`;
    writeChart(chart, `partd bench ${day}, ${os.availableParallelism()} vCPUs, --rounds ${rounds}${scaled}`, sections);
    console.error(`chart: ${chart}`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runBench(process.argv.slice(2));
