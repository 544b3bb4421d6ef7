/**
 * W6 of shared/workloads.md, many groups: W2's records with 5M keys, grouped with the groups
 * streamed (`iterateGroups`), against B0 (one fresh thread, one Map) and DuckDB in the same
 * run; and W6-large, 100M records with 20M keys streamed to an NDJSON file in a process of its
 * own, against ten times W6's time of the same run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expected, verify, type Checksum } from '../checksum.js';
import { runNode } from '../child.js';
import { duckdbGroupRatio, duckdbGroupRows } from '../duckdb.js';
import { isolated } from '../isolated.js';
import type { Result } from '../report.js';
import { rowMaker, interleave, measureOnce, ratioOf, rowsOf, type Config, type Ratio } from '../rounds.js';
import { W6_KEYS, W6_LARGE_KEYS } from '../w2/records.js';
import { countNewlines } from '../../src/shuffle/input/file-bytes.js';

const BASELINE = new URL('../w2/baseline.js', import.meta.url);
const ENGINE = new URL('../engine.js', import.meta.url);
const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'large-child.js');

/** W6's rows in `rounds` interleaved rounds, and its ratios. */
export async function runW6(n: number, rounds = 3): Promise<Result> {
  const want = expected(n, W6_KEYS);
  const row = rowMaker(n, want);
  const configs: Config[] = [
    row('b0', 'B0 (1 fresh thread, one Map)', isolated(BASELINE, 'b0', n, W6_KEYS)),
    row('w1', 'iterateGroups, 1 worker', isolated(ENGINE, 'grouped', n, W6_KEYS, 1), 'b0'),
    row('w2', 'iterateGroups, 2 workers', isolated(ENGINE, 'grouped', n, W6_KEYS, 2), 'b0'),
  ];
  configs.push(...duckdbGroupRows(row, n, W6_KEYS));
  const runs = await interleave('W6', configs, rounds);
  const ratios: Ratio[] = [{ label: 'W6: 2 workers ÷ B0', value: ratioOf(runs, 'w2', 'b0')!, target: 0.6 }];
  ratios.push(...duckdbGroupRatio(runs, 'W6'));
  return { rows: rowsOf(configs, runs), ratios };
}

/** Lines in a file (newline bytes), read in 16 MiB pieces. */
function lineCount(file: string): number {
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.alloc(16 << 20);
  let lines = 0;
  try {
    for (let got; (got = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) lines += countNewlines(buf.subarray(0, got));
  } finally {
    fs.closeSync(fd);
  }
  return lines;
}

/** W6-large (N records, 20M keys, in a child process) once, against W6 at N/10 records (2 workers) just before it. */
export async function runW6Large(n: number): Promise<Result> {
  const small = Math.round(n / 10);
  const w6 = await measureOnce({
    id: 'w6',
    name: `W6 (${small} records), 2 workers`,
    records: small,
    run: isolated(ENGINE, 'grouped', small, W6_KEYS, 2),
    want: expected(small, W6_KEYS),
  });
  console.error('W6-large: the W6 reference done');
  const want = expected(n, W6_LARGE_KEYS);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'partd-w6-large-'));
  const out = path.join(dir, 'groups.ndjson');
  try {
    const run = await runNode([CHILD, String(n), out, '2']);
    const r = JSON.parse(run.stdout) as { checksum: Checksum; seconds: number; maxRss: number };
    verify('W6-large', r.checksum, want);
    const lines = lineCount(out);
    if (lines !== want.groups) throw new Error(`W6-large: ${out} holds ${lines} lines, expected ${want.groups} groups`);
    const peak = Math.max(run.peakRss, r.maxRss);
    const line = (name: string, records: number, seconds: number, rss: number, groups: number) => ({
      name,
      records,
      seconds,
      records_per_s: Math.round(records / seconds),
      peak_rss_MiB: Math.round(rss / 2 ** 20),
      groups,
      checksum_ok: true, // verified above
      x_10_W6_time: seconds / (10 * w6.seconds),
    });
    const rows = [
      line(`W6 (${small} records, 5M keys), 2 workers, own process`, small, w6.seconds, w6.peakRss, w6.outcome.checksum.groups!),
      {
        ...line(`W6-large (${n} records, 20M keys) to NDJSON, 2 workers, own process`, n, r.seconds, peak, lines),
        process_s: run.seconds, // with the process start and loading
        NDJSON_MB: Math.round(fs.statSync(out).size / 1e6),
      },
    ];
    return {
      rows,
      ratios: [
        { label: 'W6-large: time ÷ 10 × W6', value: r.seconds / (10 * w6.seconds), target: 1.2 },
        { label: 'W6-large: peak RSS (whole process) ÷ 2 GiB', value: peak / 2 ** 31, target: 1 },
      ],
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
