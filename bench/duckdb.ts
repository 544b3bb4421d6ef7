/**
 * The DuckDB peer (`@duckdb/node-api`, a devDependency: the package never imports it), 2
 * threads, the same queries on the same records. Each run is a child process of its own
 * (`node dist/bench/duckdb.js JOB`), so its memory is measured alone and leaves nothing behind
 * in the harness; it times its own statements (not its start or the library's loading).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Checksum } from './checksum.js';
import { peakRss } from '../src/shuffle/runtime/peak-rss.js';
import { runNode } from './child.js';
import { ratioOf, type Config, type Measured, type Outcome, type Ratio, type rowMaker } from './rounds.js';
import { sqlRecords } from './w2/records.js';
import { sqlDims } from './join/records.js';

/** What DuckDB runs: records made in SQL then grouped (W2, W6), a file grouped (W4), records made then written as partitioned Parquet and read back (W5), sorted (S1) or joined (J1, J2). */
export type DuckJob =
  | { kind: 'group'; records: number; keys: number }
  | { kind: 'file'; file: string; format: 'csv' | 'ndjson' }
  | { kind: 'partition'; records: number; keys: number; partitions: number }
  | { kind: 'sort'; records: number; keys: number }
  | { kind: 'join'; records: number; keys: number; workload: 'j1' | 'j2' };

const SELF = fileURLToPath(import.meta.url);

/** Whether `@duckdb/node-api` is installed (resolved, not loaded: it would stay in this process). */
export function duckdbInstalled(): boolean {
  try {
    import.meta.resolve('@duckdb/node-api');
    return true;
  } catch {
    return false;
  }
}

/** DuckDB's row of a workload of records made and grouped (W2, W6), against partd's 2-worker row `w2`; none when DuckDB is not installed. */
export function duckdbGroupRows(row: ReturnType<typeof rowMaker>, records: number, keys: number): Config[] {
  if (!duckdbInstalled()) return [];
  return [row('duckdb', 'DuckDB 2 threads: make (table) + GROUP BY', () => runDuckdb({ kind: 'group', records, keys }), 'w2', 'duckdb')];
}

/** The ratio of partd's 2-worker row to DuckDB's row in `runs`, labelled for `workload`; none when DuckDB did not run. */
export function duckdbGroupRatio(runs: Map<string, Measured[]>, workload: string): Ratio[] {
  const duck = ratioOf(runs, 'w2', 'duckdb');
  return duck === undefined ? [] : [{ label: `${workload}: 2 workers ÷ DuckDB (make + group)`, value: duck }];
}

/** Runs a job in a child process; its phases and checksum, its statements' seconds, the child's peak RSS. */
export async function runDuckdb(job: DuckJob): Promise<Outcome> {
  const run = await runNode([SELF, JSON.stringify(job)]);
  const r = JSON.parse(run.stdout) as Required<Pick<Outcome, 'checksum' | 'phases' | 'seconds'>> & { maxRss: number };
  return { checksum: r.checksum, phases: r.phases, seconds: r.seconds, peakRss: Math.max(run.peakRss, r.maxRss) };
}

/** `CREATE TABLE g AS … GROUP BY key` of `from` (the groups are made, not sent to JavaScript), with the checksum query. */
const GROUP = (from: string) => `CREATE TABLE g AS SELECT key, count(*) AS c, sum(amount) AS s FROM ${from} GROUP BY key`;
const SUMS = 'SELECT count(*) AS groups, sum(c) AS count, sum(s) AS sum FROM g';
const quote = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** In the child: runs the job and prints { phases, seconds, checksum, maxRss }. */
async function main(job: DuckJob): Promise<void> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'partd-duckdb-'));
  const db = await DuckDBInstance.create(':memory:', { threads: '2', temp_directory: path.join(tmp, 'spill') });
  const c = await db.connect();
  const phases: Record<string, number> = {};
  const timed = async (phase: string, sql: string) => {
    const t0 = performance.now();
    await c.run(sql);
    phases[phase] = (performance.now() - t0) / 1000;
  };
  const sums = async (sql: string): Promise<Checksum> => {
    const [row] = (await c.runAndReadAll(sql)).getRowObjectsJS();
    // a query without groups (a join's, a sort's) selects NULL AS groups
    return { groups: row!.groups == null ? undefined : Number(row!.groups), count: Number(row!.count), sum: Number(row!.sum) };
  };
  try {
    await c.run('SET threads = 2');
    let checksum: Checksum;
    if (job.kind === 'group') {
      await timed('make', `CREATE TABLE r AS ${sqlRecords(job.records, job.keys)}`);
      await timed('group', GROUP('r'));
      checksum = await sums(SUMS);
    } else if (job.kind === 'file') {
      const read = job.format === 'csv' ? `read_csv(${quote(job.file)})` : `read_json(${quote(job.file)}, format = 'newline_delimited')`;
      await timed('group', GROUP(read));
      checksum = await sums(SUMS);
    } else if (job.kind === 'join') {
      // the joined rows go into a table (not to JavaScript); the checksum is read from it afterwards
      await timed('make', `CREATE TABLE r AS ${sqlRecords(job.records, job.keys)}`);
      if (job.workload === 'j1') {
        await timed('make_dims', `CREATE TABLE d AS ${sqlDims}`);
        await timed('join', 'CREATE TABLE j AS SELECT r.key, r.amount + d.weight AS s FROM r JOIN d ON r.key = d.key');
      } else await timed('join', 'CREATE TABLE j AS SELECT a.id, a.amount + b.amount AS s FROM r a JOIN r b ON a.id = b.id');
      checksum = await sums('SELECT NULL AS groups, count(*) AS count, sum(s) AS sum FROM j');
    } else if (job.kind === 'sort') {
      await timed('make', `CREATE TABLE r AS ${sqlRecords(job.records, job.keys)}`);
      await timed('sort', 'CREATE TABLE s AS SELECT * FROM r ORDER BY amount, id');
      checksum = await sums('SELECT NULL AS groups, count(*) AS count, sum(amount) AS sum FROM s'); // the rows stay in DuckDB: no order hash
    } else {
      const dir = path.join(tmp, 'parquet');
      await timed('make', `CREATE TABLE r AS ${sqlRecords(job.records, job.keys)}`);
      await timed(
        'copy',
        `COPY (SELECT *, hash(key) % ${job.partitions} AS part FROM r) TO ${quote(dir)} (FORMAT parquet, PARTITION_BY (part))`,
      );
      await timed(
        'read',
        `CREATE TABLE g AS SELECT part, count(*) AS c, sum(amount) AS s FROM read_parquet(${quote(dir + '/**/*.parquet')}, hive_partitioning = true) GROUP BY part`,
      );
      checksum = await sums(SUMS);
    }
    const seconds = Object.values(phases).reduce((a, b) => a + b, 0);
    process.stdout.write(JSON.stringify({ phases, seconds, checksum, maxRss: peakRss() }));
  } finally {
    c.closeSync();
    db.closeSync();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main(JSON.parse(process.argv[2]!) as DuckJob);
