/**
 * A sort's gather of one partition, in a worker thread: its entries read from the store frame
 * by frame and sorted in memory; past its memory share, each full run is sorted and spilled to
 * a file, and the runs are merged k ways (at most FAN_IN at once: more are first merged into
 * longer runs), so a partition larger than memory sorts in bounded memory (an external sort).
 * Files are named by partition and attempt, so a retry never meets a failed attempt's files.
 */
import fs from 'node:fs';
import path from 'node:path';
import { FrameReader } from '../../layers/frames.js';
import type { Lmdb } from '../../stores/lmdb/lmdb.js';
import type { SortedPartition, SortReduce } from '../protocol.js';
import { readBlock } from './block.js';
import { PartitionOutput } from './output.js';
import { MemoryRun, RunReader, merge, writeRun, type Entry } from './runs.js';

/** Heap bytes of a decoded entry per byte of its MessagePack (records, arrays, strings): a run's budget in encoded bytes is its share over this. */
const EXPANSION = 4;
/** The smallest run (encoded bytes): a tiny `memory` still sorts, in runs of a few frames. */
const MIN_RUN_BYTES = 64 << 10;
/** Runs merged at once: each holds a frame and a read buffer. */
export const FAN_IN = 16;

/** Sorts partition `partition` of the store; `fault(n)` is called after the n-th frame read (fault injection). */
export async function sortPartition(
  raw: Lmdb,
  partition: number,
  reduce: SortReduce,
  attempt: number,
  fault: (frames: number) => void,
): Promise<SortedPartition> {
  const dir = reduce.descending ? -1 : 1;
  const budget = Math.max(MIN_RUN_BYTES, Math.floor(reduce.budget / EXPANSION));
  let files = 0;
  const fileName = (what: string) => path.join(reduce.spill, `p${partition}-a${attempt}-${what}${files++}`);
  const run = new MemoryRun();
  const runs: string[] = [];
  const spill = (entries: Iterable<Entry>) => {
    const file = fileName('run');
    runs.push(file);
    writeRun(file, entries);
  };
  const out = new PartitionOutput(partition, reduce.format, budget, fileName('out'));
  let done = false;
  try {
    const where = `key ${partition}`;
    const frames = new FrameReader(where);
    let n = 0;
    for await (const piece of raw.iterate(partition)) {
      for (const payload of frames.push(piece)) {
        run.add(readBlock(payload, where), payload.length);
        fault(++n);
        if (run.bytes >= budget) spill(run.take(dir).entries());
      }
    }
    frames.end();
    if (runs.length === 0) {
      const sorted = run.take(dir);
      let result: SortedPartition;
      // MessagePack out: the blocks' records as stored, and their order (the calling thread decodes them once)
      if (reduce.format === 'msgpack')
        result = { count: sorted.order.length, runs: 0, chunks: sorted.blocks.map((b) => b.records), order: sorted.order };
      else {
        for (const record of sorted.records()) out.push(record);
        result = out.finish(0);
      }
      done = true;
      return result;
    }
    if (run.size > 0) spill(run.take(dir).entries());
    const spilled = runs.length;
    while (runs.length > FAN_IN) {
      const group = runs.splice(0, FAN_IN);
      spill(merged(group, dir));
      for (const f of group) fs.rmSync(f, { force: true });
    }
    for (const e of merged(runs, dir)) out.push(e[2]);
    done = true;
    return out.finish(spilled);
  } finally {
    for (const f of runs) fs.rmSync(f, { force: true });
    if (!done) {
      out.abandon();
      fs.rmSync(out.file, { force: true });
    }
  }
}

/** The entries of run files, merged in order; every file is closed once they are all read, or the reading stops. */
function* merged(files: string[], dir: 1 | -1): Generator<Entry> {
  const readers: RunReader[] = [];
  try {
    for (const f of files) readers.push(new RunReader(f));
    yield* merge(readers, dir);
  } finally {
    for (const r of readers) r.close();
  }
}
