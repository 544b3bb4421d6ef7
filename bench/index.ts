/**
 * The benchmark harness: `npm run bench -- [w1] [w1-large] [shuffle] [w3] [w4] [--only NAME,...] [--records N] [--rounds R]`.
 * Runs the workloads of shared/workloads.md and prints a table and JSON lines per result,
 * with ratios against baselines measured in the same run.
 */
import { pathToFileURL } from 'node:url';
import { Dict, File, Lmdb, LZ4, Spill, type Partd } from '../src/index.js';
import { report, type Row } from './report.js';
import { W1, W1_LARGE, runPythonPartd, runW1, type W1Shape } from './w1.js';
import { runW2, runW3 } from './w2/shuffle.js';
import { runW4 } from './w4/index.js';

const MB100 = 100e6;
const stores: [string, () => Partd][] = [
  ['Dict', () => new Dict()],
  ['File', () => new File()],
  ['Lmdb (default: synced commits)', () => new Lmdb()],
  ['Lmdb(noSync)', () => new Lmdb(undefined, { noSync: true })],
  ['Spill(Dict, Lmdb, 100 MB)', () => new Spill(new Dict(), new Lmdb(undefined, { noSync: true }), MB100)],
  ['Spill(Dict, File, 100 MB)', () => new Spill(new Dict(), new File(), MB100)],
  ['LZ4(Lmdb(noSync))', () => new LZ4(new Lmdb(undefined, { noSync: true }))],
];

async function w1(title: string, shape: W1Shape, only: string[] | undefined): Promise<void> {
  const rows: Row[] = [];
  for (const kind of ['File', 'Buffer'] as const) {
    const r = runPythonPartd(kind, shape);
    if (r) rows.push(r);
  }
  for (const [name, make] of stores) {
    if (only && !only.some((o) => name.includes(o))) continue;
    if (shape === W1_LARGE && name === 'Dict') continue; // 2 GB in memory says nothing about disk stores
    rows.push(await runW1(name, make, shape));
    console.error(`${title}: ${name} done`);
  }
  const pyFile = rows.find((r) => r.name === 'python partd File');
  const pyBuf = rows.find((r) => r.name.startsWith('python partd Buffer'));
  for (const r of rows) {
    if (pyFile) r.x_partd_File = (r.appends_per_s as number) / (pyFile.appends_per_s as number);
    if (pyBuf) r.x_partd_Buffer = (r.appends_per_s as number) / (pyBuf.appends_per_s as number);
  }
  if (!pyFile) console.error('(python3-partd not installed: no same-run Python baseline; `apt-get install python3-partd` adds it)');
  report(title, rows);
}

/** Runs the workloads named in `argv` (default: w1, w1-large, shuffle). */
export async function runBench(argv: string[]): Promise<void> {
  const args = [...argv];
  const option = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args.splice(i, 2)[1] : undefined;
  };
  const only = option('--only')?.split(',');
  const roundsArg = option('--rounds');
  const rounds = roundsArg === undefined ? 3 : Number(roundsArg);
  if (!Number.isSafeInteger(rounds) || rounds < 1) throw new RangeError(`--rounds: expected a positive integer, got ${roundsArg}`);
  const recordsArg = option('--records');
  const records = recordsArg === undefined ? undefined : Number(recordsArg);
  if (records !== undefined && (!Number.isSafeInteger(records) || records < 1)) throw new RangeError(`--records: expected a positive integer, got ${recordsArg}`);
  const todo = args.length ? args : ['w1', 'w1-large', 'shuffle'];
  for (const w of todo) {
    if (w === 'w1') await w1('W1 (1000 keys x 100 B x 2000 rounds)', W1, only);
    else if (w === 'w1-large') await w1('W1-large (100 keys x 100 kB x 200 rounds)', W1_LARGE, only);
    else if (w === 'shuffle' || w === 'w2') report(`W2 shuffle + groupBy (${records ?? 10_000_000} records, P = 128)`, await runW2(records ?? 10_000_000, rounds));
    else if (w === 'w3') report(`W3 (${records ?? 100_000_000} records, P = 128)`, await runW3(records ?? 100_000_000));
    else if (w === 'w4') report(`W4 partd groupby of files (${records ?? 5_000_000} records)`, await runW4(records ?? 5_000_000));
    else throw new RangeError(`workload: unknown ${JSON.stringify(w)}; expected w1, w1-large, shuffle (w2), w3 or w4`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runBench(process.argv.slice(2));
