/**
 * The rows of the join workloads, each run in a process of its own (bench/isolated.ts): partd's
 * `join` streamed and summed in the calling thread, and B0-join — one fresh thread building a
 * Map of the right side and streaming the left past it, making every joined row — in memory.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { join, type JoinRow } from '../../src/index.js';
import { recordsInput } from '../engine.js';
import type { Outcome } from '../rounds.js';
import { inFreshThreads } from '../thread.js';
import { recordOf, W2_KEYS, type W2Record } from '../w2/records.js';
import { dimOf, DIM_ROWS, type DimRow, type JoinWorkload } from './records.js';

/** The module of the dimension rows (compiled), as the workers load it. */
const RECORDS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'records.js');

/** The right side's value that the checksum adds to each row's left amount. */
const rightValue = (workload: JoinWorkload, right: DimRow | W2Record) =>
  workload === 'j1' ? (right as DimRow).weight : (right as W2Record).amount;

/** partd's join of records [0, n) (J1: with the dimension table on key; J2: with themselves on id), inner, P = 128. */
export async function joined(n: number, workload: JoinWorkload, workers: number): Promise<Outcome> {
  const t0 = performance.now();
  let scattered = t0;
  let count = 0;
  let sum = 0;
  const right = workload === 'j1' ? { generate: { module: RECORDS, export: 'dimRange' }, count: DIM_ROWS } : recordsInput(n, W2_KEYS);
  const rows = join<W2Record, DimRow | W2Record>(
    { left: recordsInput(n, W2_KEYS), right, on: workload === 'j1' ? 'key' : 'id', partitions: 128, workers },
    () => (scattered = performance.now()),
  );
  for await (const row of rows as AsyncIterable<JoinRow<W2Record, DimRow | W2Record>>) {
    count++;
    sum += row.left!.amount + rightValue(workload, row.right!);
  }
  const end = performance.now();
  return { checksum: { count, sum }, phases: { scatter: (scattered - t0) / 1000, gather: (end - scattered) / 1000 } };
}

/** B0-join's work in one thread: the right side into a Map, the left streamed past it, each joined row made. */
export function hashJoinInThread(n: number, workload: JoinWorkload): { count: number; sum: number } {
  const table = new Map<string | number, DimRow | W2Record>();
  if (workload === 'j1') for (let k = 0; k < DIM_ROWS; k++) table.set(dimOf(k).key, dimOf(k));
  else for (let i = 0; i < n; i++) table.set(i, recordOf(i, W2_KEYS));
  let count = 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const left = recordOf(i, W2_KEYS);
    const key = workload === 'j1' ? left.key : left.id;
    const right = table.get(key);
    if (right === undefined) continue;
    const row: JoinRow<W2Record, DimRow | W2Record> = { key, left, right };
    count++;
    sum += row.left!.amount + rightValue(workload, row.right!);
  }
  return { count, sum };
}

/** B0-join in a fresh worker thread, as the engine's workers run. */
export async function b0Join(n: number, workload: JoinWorkload): Promise<Outcome> {
  const [checksum] = await inFreshThreads<{ count: number; sum: number }>([
    { module: new URL(import.meta.url), export: 'hashJoinInThread', args: [n, workload] },
  ]);
  return { checksum: checksum! };
}
