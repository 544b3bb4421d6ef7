/**
 * How big each partition of a join's two sides is, kept in the store beside the partitions
 * (both threads: scatter sessions write, the coordinator reads). A join's scatter session
 * appends, with every commit, the bytes that commit adds to each partition, under
 * `tuple('join-sizes', side)`: in the commit's own transaction, so the sizes count exactly what
 * was committed, through retries and resumed runs alike. The gather is planned from them
 * (join/units.ts): which side of a partition to hold in memory, which partitions to split.
 */
import { keyId, tuple, type Key } from '../../keys.js';
import { Msgpack } from '../../layers/values.js';
import type { Lmdb } from '../../stores/lmdb/lmdb.js';
import type { Side } from '../protocol.js';

/** The key of side `side`'s sizes: MessagePack frames of `[partition, bytes, partition, bytes, …]`, one per commit. */
export const sizesKey = (side: Side): Key => tuple('join-sizes', side);

/**
 * The sizes entry of a commit of side `side`'s session: the bytes of its entries by
 * partition (entry keys are the ids of store keys side · P + p). `frame` frames values as
 * the Msgpack layer stores them (the session's framer).
 */
export function sizesEntry(
  side: Side,
  partitions: number,
  entries: readonly [string, Uint8Array][],
  frame: (value: number[]) => Uint8Array,
): [string, Uint8Array] {
  const bytes = new Map<number, number>();
  for (const [id, chunk] of entries) {
    const p = Number(id) - side * partitions; // ids of number keys are their digits (keys.ts)
    bytes.set(p, (bytes.get(p) ?? 0) + chunk.length);
  }
  return [keyId(sizesKey(side)), frame([...bytes].flat())];
}

/** The stored bytes of each partition of both sides, summed over every commit in the store. */
export async function readSizes(store: Lmdb, partitions: number): Promise<[Float64Array, Float64Array]> {
  const codec = new Msgpack<number>(store);
  const out: [Float64Array, Float64Array] = [new Float64Array(partitions), new Float64Array(partitions)];
  for (const side of [0, 1] as const) {
    const flat = await codec.get(sizesKey(side));
    for (let i = 0; i + 1 < flat.length; i += 2) out[side][flat[i]!]! += flat[i + 1]!;
  }
  return out;
}
