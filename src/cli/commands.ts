/** The commands of the `partd` CLI. */
import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { Msgpack } from '../layers/values.js';
import { Lmdb } from '../stores/lmdb.js';
import type { Aggregation } from '../shuffle/reducers.js';
import { iterateGroups } from '../shuffle/group-by.js';
import { shuffle, type ShuffleInput, type ShuffleOptions, type ShuffleStats } from '../shuffle/coordinator.js';
import { UsageError, inputFormat, parsePositive, parseSize } from './args.js';
import { Bars, summary } from './progress.js';
import { stdinRecords } from './stdin.js';

/** Options shared by `groupby` and `shuffle`. */
export interface CommonOptions {
  key: string;
  partitions?: string;
  workers?: string;
  memory?: string;
  store?: string;
  format?: string;
  onBadRecord: string;
  quiet?: boolean;
}

/** Options of `groupby`. */
export interface GroupbyOptions extends CommonOptions {
  count?: boolean;
  sum: string[];
  min: string[];
  max: string[];
  mean: string[];
  out?: string;
}

/** Builds the shuffle options both commands share. */
function shuffleOptions(files: string[], o: CommonOptions, bars: Bars, counts: { bad: number }): ShuffleOptions {
  if (files.length === 0) throw new UsageError('FILE: give at least one input file, or - for stdin');
  if (o.onBadRecord !== 'error' && o.onBadRecord !== 'skip') throw new UsageError(`--on-bad-record: expected error or skip, got ${JSON.stringify(o.onBadRecord)}`);
  const format = inputFormat(files, o.format);
  if (files.includes('-') && files.length > 1) throw new UsageError('FILE: - (stdin) cannot be mixed with files');
  let input: ShuffleInput;
  if (files[0] === '-') input = { records: stdinRecords(format, o.onBadRecord === 'skip', counts) };
  else {
    for (const f of files) if (!fs.existsSync(f)) throw new Error(`${f}: no such file`);
    input = format === 'csv' ? { csv: files } : { ndjson: files };
  }
  return {
    input,
    key: o.key,
    partitions: o.partitions === undefined ? undefined : parsePositive(o.partitions, '--partitions'),
    workers: o.workers === undefined ? undefined : parsePositive(o.workers, '--workers'),
    memory: o.memory === undefined ? undefined : parseSize(o.memory, '--memory'),
    store: o.store,
    onBadRecord: o.onBadRecord,
    progress: bars.update,
  };
}

/** Writes a line, waiting when the stream is full. */
async function writeLine(out: Writable, line: string): Promise<void> {
  if (!out.write(line + '\n')) await once(out, 'drain');
}

async function closeOutput(out: Writable): Promise<void> {
  if (out === process.stdout) return;
  out.end();
  await once(out, 'finish');
}

/** `partd groupby FILE… --key F [--count] [--sum F]…`: one NDJSON line per group. */
export async function groupbyCommand(files: string[], o: GroupbyOptions): Promise<void> {
  const aggregate: Record<string, Aggregation> = {};
  if (o.count || (o.sum.length + o.min.length + o.max.length + o.mean.length === 0)) aggregate.count = { op: 'count' };
  for (const op of ['sum', 'min', 'max', 'mean'] as const) for (const field of o[op]) aggregate[`${op}_${field}`] = { op, field };
  const bars = new Bars(!o.quiet && process.stderr.isTTY === true);
  const counts = { bad: 0 };
  const options = { ...shuffleOptions(files, o, bars, counts), aggregate };
  const out: Writable = o.out === undefined || o.out === '-' ? process.stdout : fs.createWriteStream(o.out);
  const t0 = performance.now();
  let stats: ShuffleStats | undefined;
  let groups = 0;
  try {
    for await (const [, row] of iterateGroups(options, (s) => (stats = s))) {
      await writeLine(out, JSON.stringify(row));
      groups++;
    }
  } finally {
    bars.stop();
  }
  await closeOutput(out);
  const s = stats!;
  process.stderr.write(summary({ records: s.records, bytes: s.bytesRead, outputs: groups, outputName: 'groups', seconds: (performance.now() - t0) / 1000, bad: s.badRecords + counts.bad, resumed: s.resumed }) + '\n');
}

/** `partd shuffle FILE… --key F --out DIR`: one NDJSON file per partition. */
export async function shuffleCommand(files: string[], o: CommonOptions & { out: string }): Promise<void> {
  const bars = new Bars(!o.quiet && process.stderr.isTTY === true);
  const counts = { bad: 0 };
  const options = shuffleOptions(files, o, bars, counts);
  fs.mkdirSync(o.out, { recursive: true });
  const t0 = performance.now();
  const h = await shuffle(options).finally(() => bars.stop());
  try {
    for (let p = 0; p < h.partitions; p++) {
      const out = fs.createWriteStream(path.join(o.out, `part-${String(p).padStart(5, '0')}.ndjson`));
      for await (const batch of h.iterate(p)) for (const record of batch) await writeLine(out, JSON.stringify(record));
      await closeOutput(out);
    }
  } finally {
    await h.close();
  }
  process.stderr.write(summary({ records: h.stats.records, bytes: h.stats.bytesRead, outputs: h.partitions, outputName: 'partitions', seconds: (performance.now() - t0) / 1000, bad: h.stats.badRecords + counts.bad, resumed: h.stats.resumed }) + '\n');
}

/** `partd get DIR KEY…`: what a kept store holds under numeric or string keys, as NDJSON. */
export async function getCommand(dir: string, keys: string[]): Promise<void> {
  if (!fs.existsSync(dir)) throw new Error(`${dir}: no such store`);
  const store = new Msgpack(new Lmdb(dir));
  try {
    for (const k of keys) {
      for await (const batch of store.iterate(/^\d+$/.test(k) ? Number(k) : k)) for (const v of batch) await writeLine(process.stdout, JSON.stringify(v));
    }
  } finally {
    await store.close();
  }
}
