/**
 * Grace hash join, in a worker thread: a partition whose smaller side is more than a task may
 * hold in memory is split again, both sides by a second hash of the key (independent of the
 * partitioner's, and another at each depth), into a temporary `File` store, and each
 * sub-partition is joined the same way, recursively. A key's rows all go to one
 * sub-partition, so a key too big for memory on both sides cannot be split: after MAX_DEPTH
 * re-splits the join fails with a `JoinMemoryError` naming the partition and a key.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { JoinMemoryError } from '../../errors.js';
import { Msgpack } from '../../layers/values.js';
import { File } from '../../stores/file/file.js';
import { keeps, type Side } from '../protocol.js';
import { emitAlone, hashJoin, type JoinContext, type Rows } from './hash.js';

/** Re-splits of one partition at most (a fan-out of up to 64 each: 16M sub-partitions). */
const MAX_DEPTH = 4;
const MAX_FAN = 64;
/** Records buffered across the sub-partitions before they are appended to the spill store. */
const FLUSH_ROWS = 8192;

/** A join task's context: the budget of a build side (stored bytes), where spill stores go, and re-splits so far. */
export interface GraceContext extends JoinContext {
  limit: number;
  dir: string;
  resplits: number;
}

/**
 * The hash of `key` at re-split depth `depth`: FNV-1a 32 from a seed of its own, then
 * MurmurHash3's finaliser, so that its bits do not follow the partitioner's hash (whose value
 * mod P is the same for every key of a partition).
 */
export function hashAt(key: unknown, depth: number): number {
  const text = typeof key === 'string' ? key : JSON.stringify(key);
  let h = (0x811c9dc5 ^ Math.imul(depth + 1, 0x9e3779b9)) >>> 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Joins a (sub-)partition whose sides `read` returns (afresh at each call), `sizes` their
 * stored bytes: in memory when its smaller side fits the budget, else split again.
 */
export async function joinPart(
  ctx: GraceContext,
  read: [() => Rows, () => Rows],
  sizes: [number, number],
  depth: number,
  where: string,
): Promise<void> {
  const [l, r] = sizes;
  if ((l === 0 && !keeps(ctx.how, 1)) || (r === 0 && !keeps(ctx.how, 0))) return; // no row to make
  const b: Side = l <= r ? 0 : 1;
  const q: Side = b === 0 ? 1 : 0;
  if (sizes[b] <= ctx.limit) return hashJoin(ctx, b, read[b](), read[q]());
  if (depth >= MAX_DEPTH) throw await tooBig(ctx, read[b], b, sizes, where);
  ctx.resplits++;
  const fan = Math.min(MAX_FAN, Math.max(2, 2 * Math.ceil(sizes[b] / ctx.limit))); // twice what would just fit
  const dir = path.join(ctx.dir, `grace-${randomUUID()}`);
  const spill = new File(dir);
  const codec = new Msgpack(spill);
  try {
    const subSizes: [Float64Array, Float64Array] = [new Float64Array(fan), new Float64Array(fan)];
    for (const side of [0, 1] as const) await split(ctx, read[side](), side, depth, fan, spill, codec, subSizes[side]);
    for (let sub = 0; sub < fan; sub++) {
      await joinPart(
        ctx,
        [() => codec.iterate(sub), () => codec.iterate(fan + sub)],
        [subSizes[0][sub]!, subSizes[1][sub]!],
        depth + 1,
        `${where}, sub-partition ${sub} of ${fan} (depth ${depth + 1})`,
      );
    }
  } finally {
    await spill.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Appends side `side`'s records to the spill store by `hashAt(key, depth) mod fan` (key side · fan + sub); keyless ones are done with here. */
async function split(
  ctx: GraceContext,
  rows: Rows,
  side: Side,
  depth: number,
  fan: number,
  spill: File,
  codec: Msgpack,
  sizes: Float64Array,
): Promise<void> {
  const keyOf = ctx.keyOf[side];
  const alone = keeps(ctx.how, side);
  let buffers: unknown[][] = Array.from({ length: fan }, () => []);
  let buffered = 0;
  const flush = async () => {
    const entries: [number, Uint8Array][] = [];
    buffers.forEach((records, sub) => {
      if (records.length === 0) return;
      const frame = codec.frameOf(records); // the bytes the Msgpack layer reads back
      sizes[sub]! += frame.length;
      entries.push([side * fan + sub, frame]);
    });
    buffers = Array.from({ length: fan }, () => []);
    buffered = 0;
    if (entries.length > 0) await spill.append(entries);
  };
  for await (const batch of rows) {
    for (const record of batch) {
      const key = keyOf(record);
      if (key == null) {
        if (alone) emitAlone(ctx, side, record, key); // matches nothing at any depth
        continue;
      }
      buffers[hashAt(key, depth) % fan]!.push(record);
      if (++buffered >= FLUSH_ROWS) await flush();
    }
  }
  await flush();
}

/** The error of a (sub-)partition that cannot be split further, naming a key of its build side. */
async function tooBig(ctx: GraceContext, read: () => Rows, b: Side, sizes: [number, number], where: string): Promise<JoinMemoryError> {
  let key: unknown;
  for await (const batch of read()) {
    if (batch.length === 0) continue;
    key = ctx.keyOf[b](batch[0]);
    break;
  }
  const [build, other] = b === 0 ? ['left', 'right'] : ['right', 'left'];
  return new JoinMemoryError(
    `${where}: after ${MAX_DEPTH} re-splits its ${build} side still holds ${sizes[b]} bytes (its ${other} side ${sizes[b === 0 ? 1 : 0]}), ` +
      `more than a task may hold in memory (${ctx.limit} bytes: memory ÷ workers ÷ 8); a key with that many rows on both sides ` +
      `(such as ${JSON.stringify(key)}) cannot be split: raise memory`,
  );
}
