/** The commands of the `partd` CLI (calling thread): groupby, shuffle and get, and what the job commands share (options, input files or stdin). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Msgpack } from '../layers/values.js';
import { Lmdb } from '../stores/lmdb/lmdb.js';
import { makeTempDir, removeTempDir } from '../stores/temp.js';
import type { Aggregation } from '../shuffle/groupby/aggregations.js';
import { groupLines } from '../shuffle/groupby/index.js';
import { shuffle, type ShuffleInput, type ShuffleOptions, type ShuffleStats } from '../shuffle/index.js';
import { PathError, UsageError } from '../errors.js';
import { inputFormat, parsePositive, parseRedis, parseSize, parseTypes, type Format } from './args.js';
import { Output, outputDir, outputOf } from './output.js';
import { Bars, summary } from './progress.js';

/** Options shared by the job commands (`join` takes --on instead of --key). */
export interface CommonOptions {
  key: string;
  partitions?: string;
  workers?: string;
  memory?: string;
  store?: string;
  format?: string;
  types: string[];
  onBadRecord: string;
  quiet?: boolean;
  /** groupby and shuffle: run on `partd worker` processes through this Redis. */
  redis?: string;
  queue?: string;
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

/** Where a job reads from: the input files, or stdin (`-`), which is spooled to a file first. */
interface Inputs {
  files: string[];
  format: Format;
  stdin: boolean;
}

/** Checks what the commands share (before any work, and before stdin is read) and builds the shuffle options, all but the input. */
export function jobOptions(
  files: string[],
  o: CommonOptions,
  bars: Bars,
  signal: AbortSignal,
): { inputs: Inputs; options: Omit<ShuffleOptions, 'input'> } {
  if (files.length === 0) throw new UsageError('FILE: give at least one input file, or - for stdin');
  if (o.key === '') throw new UsageError('--key: expected a field name, got ""');
  if (o.onBadRecord !== 'error' && o.onBadRecord !== 'skip')
    throw new UsageError(`--on-bad-record: expected error or skip, got ${JSON.stringify(o.onBadRecord)}`);
  const format = inputFormat(files, o.format);
  const stdin = files.includes('-');
  if (stdin && files.length > 1) throw new UsageError('FILE: - (stdin) cannot be mixed with files');
  // A kept store resumes the job it holds; a re-run cannot know that stdin brings the same input again.
  if (stdin && o.store !== undefined)
    throw new UsageError(
      '--store: stdin (-) cannot be resumed, a re-run cannot know it is the same input; save it to a file and give that, or drop --store',
    );
  if (stdin && o.redis !== undefined)
    throw new UsageError('--redis: stdin (-) is read on this machine only; the workers read files: give a file every worker can read');
  if (o.queue !== undefined && o.redis === undefined) throw new UsageError('--queue: give --redis too (the queue is on that Redis)');
  // usage first (exit 2), whatever the files
  const types = parseTypes(o.types);
  const partitions = o.partitions === undefined ? undefined : parsePositive(o.partitions, '--partitions');
  const workers = o.workers === undefined ? undefined : parsePositive(o.workers, '--workers');
  const memory = o.memory === undefined ? undefined : parseSize(o.memory, '--memory');
  for (const f of stdin ? [] : files) {
    if (!fs.existsSync(f)) throw new PathError(`${f}: no such file`);
    if (!fs.statSync(f).isFile()) throw new PathError(`${f}: not a file`);
  }
  return {
    inputs: { files, format, stdin },
    options: {
      key: o.key,
      partitions,
      workers,
      memory,
      store: o.store,
      onBadRecord: o.onBadRecord,
      ...(types ? { types } : {}),
      ...(o.redis !== undefined && { cluster: { redis: parseRedis(o.redis), ...(o.queue !== undefined && { queue: o.queue }) } }),
      progress: bars.update,
      signal,
    },
  };
}

/**
 * Runs `job` on the input files; stdin is first copied to a temporary file, so it is read as
 * a file is (typed CSV columns, parallel parsing, errors naming lines), and errors then name
 * it `<stdin>`. The copy goes when `job` calls `done` (its input is read), or at the end, or
 * at exit (Ctrl-C included: stores/temp.ts).
 */
export async function withInput<R>(inputs: Inputs, job: (input: ShuffleInput, done: () => void) => Promise<R>): Promise<R> {
  const { files, format } = inputs;
  if (!inputs.stdin) return job(format === 'csv' ? { csv: files } : { ndjson: files }, () => undefined);
  const dir = makeTempDir('stdin');
  const file = path.join(dir, `stdin.${format}`);
  const done = () => removeTempDir(dir);
  try {
    try {
      await pipeline(process.stdin, fs.createWriteStream(file));
    } catch (e) {
      throw new Error(
        `<stdin>: cannot copy it to a temporary file in ${os.tmpdir()} (set TMPDIR to use another): ${(e as Error).message}`,
        { cause: e },
      );
    }
    return await job(format === 'csv' ? { csv: file } : { ndjson: file }, done);
  } catch (e) {
    throw namedStdin(e, [path.resolve(file), file]);
  } finally {
    done();
  }
}

/** The error with the spool file's path replaced by `<stdin>`, in its message and stack. */
function namedStdin(e: unknown, paths: string[]): unknown {
  if (!(e instanceof Error)) return e;
  for (const p of paths) {
    e.message = e.message.replaceAll(p, '<stdin>');
    if (e.stack) e.stack = e.stack.replaceAll(p, '<stdin>');
  }
  return e;
}

/** `partd groupby FILE… --key F [--count] [--sum F]…`: one NDJSON line per group. */
export async function groupbyCommand(files: string[], o: GroupbyOptions): Promise<void> {
  const aggregate: Record<string, Aggregation> = {};
  if (o.count || o.sum.length + o.min.length + o.max.length + o.mean.length === 0) aggregate.count = { op: 'count' };
  for (const op of ['sum', 'min', 'max', 'mean'] as const) for (const field of o[op]) aggregate[`${op}_${field}`] = { op, field };
  const bars = new Bars(!o.quiet && process.stderr.isTTY === true);
  const abort = new AbortController();
  const { inputs, options } = jobOptions(files, o, bars, abort.signal);
  const out = outputOf(o.out);
  const t0 = performance.now();
  let stats: ShuffleStats | undefined;
  let groups = 0;
  try {
    await withInput(inputs, async (input, done) => {
      const onStats = (s: ShuffleStats) => ((stats = s), done()); // scattered: gather reads the store only
      const lines = async function* () {
        for await (const part of groupLines({ ...options, input, aggregate }, onStats)) {
          groups += part.rows;
          if (part.text) yield part.text; // a partition's lines: one write, not one per group
        }
      };
      await out.writeAll(lines(), abort);
    });
  } finally {
    bars.stop();
  }
  await out.close();
  const s = stats!;
  process.stderr.write(
    summary({
      records: s.records,
      bytes: s.bytesRead,
      outputs: groups,
      output: 'group',
      seconds: (performance.now() - t0) / 1000,
      bad: s.badRecords,
      resumed: s.resumed,
    }) + '\n',
  );
}

/** `partd shuffle FILE… --key F --out DIR`: one NDJSON file per partition. */
export async function shuffleCommand(files: string[], o: CommonOptions & { out: string }): Promise<void> {
  const bars = new Bars(!o.quiet && process.stderr.isTTY === true);
  const { inputs, options } = jobOptions(files, o, bars, new AbortController().signal);
  outputDir(o.out);
  const t0 = performance.now();
  const h = await withInput(inputs, async (input) => shuffle({ ...options, input })).finally(() => bars.stop());
  try {
    for (let p = 0; p < h.partitions; p++) {
      const file = path.join(o.out, `part-${String(p).padStart(5, '0')}.ndjson`);
      const out = new Output(fs.createWriteStream(file), file);
      for await (const batch of h.iterate(p)) for (const record of batch) await out.line(JSON.stringify(record));
      await out.close();
    }
  } finally {
    await h.close();
  }
  process.stderr.write(
    summary({
      records: h.stats.records,
      bytes: h.stats.bytesRead,
      outputs: h.partitions,
      output: 'partition',
      seconds: (performance.now() - t0) / 1000,
      bad: h.stats.badRecords,
      resumed: h.stats.resumed,
    }) + '\n',
  );
}

/** `partd get DIR KEY…`: what a kept store holds under numeric or string keys, as NDJSON. */
export async function getCommand(dir: string, keys: string[]): Promise<void> {
  if (!fs.existsSync(dir)) throw new PathError(`${dir}: no such store`);
  const store = new Msgpack(new Lmdb(dir, { readOnly: true })); // reading: never makes a store of an empty directory
  const out = new Output(process.stdout, 'stdout');
  try {
    for (const k of keys) {
      for await (const batch of store.iterate(/^\d+$/.test(k) ? Number(k) : k)) for (const v of batch) await out.line(JSON.stringify(v));
    }
    await out.close();
  } finally {
    await store.close();
  }
}
