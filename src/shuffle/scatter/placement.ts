/**
 * Where a scatter session puts a record, in a scatter worker thread: which keys it refuses,
 * the store key of the record's partition, and the entry stored there (scatter/session.ts).
 * A shuffle's and a groupBy's go by the key's hash; a join side's too, under its own store
 * keys (side · P + p), and a keyless record is kept; a sort's go by key range (sort/order.ts).
 * One placement per session, made once: the per-record calls stay monomorphic.
 */
import { sizesEntry } from '../join/sizes.js';
import { partitionOf } from '../partitioner.js';
import type { ScatterTask } from '../protocol.js';
import { rangePartitioner, type SortKey } from '../sort/order.js';
import { sortKeyMisfit } from '../sort/sort-key.js';
import { blockFrame } from '../sort/block.js';
import { framer, type Framing } from './outbox.js';
import { joinKeyMisfit, keyMisfit } from './record-key.js';

/** How a session places its records (a groupBy's combined states are placed by scatter/combine.ts). */
export interface Placement {
  /** Store keys the session writes under: 0..stores-1. */
  stores: number;
  /** Whether a string key is checked too (else strings pass unchecked: the common case costs nothing). */
  checkStrings: boolean;
  /** Why `key` makes the record a bad one, or undefined. */
  misfit(key: unknown): string | undefined;
  /** The store key of the record's partition (`pos`: its position in its split). */
  partition(key: unknown, ord: number, pos: number): number;
  /** What the store holds for the record. */
  entry(key: unknown, ord: number, record: unknown): unknown;
  /** How entries are framed with their ordinals and keys (a sort's blocks); else as MessagePack arrays. */
  framing?: Framing;
  /** An entry each commit adds beside its chunks (a join's partition sizes). */
  alongside?(entries: readonly [string, Uint8Array][]): [string, Uint8Array];
}

/** The placement of a session's task. */
export function placement(task: ScatterTask): Placement {
  const { key: spec, partitions: P } = task;
  const typed = 'field' in spec && spec.type !== undefined;
  if (task.range) {
    const range = rangePartitioner(task.range.splitters, task.range.descending);
    return {
      stores: P,
      checkStrings: true, // a sort's strings must be well-formed Unicode
      misfit: (key) => sortKeyMisfit(key, spec),
      partition: (key, ord) => range(key as SortKey, ord),
      entry: (_, __, record) => record,
      framing: blockFrame, // the keys and ordinals beside the records: the gather sorts without decoding them
    };
  }
  const entry = task.group
    ? (key: unknown, ord: number, record: unknown) => [key, ord, record]
    : (_: unknown, __: number, record: unknown) => record;
  if (task.join) {
    const { side } = task.join;
    const base = side * P;
    return {
      stores: base + P,
      checkStrings: typed,
      // a join keeps a record without a key (SQL's NULL): it matches nothing, and reaches an outer side's rows alone
      misfit: (key) => joinKeyMisfit(key, spec),
      partition: (key, _, pos) => base + (key == null ? pos % P : partitionOf(key as string | number, P)), // keyless records spread
      entry,
      alongside: (entries) => sizesEntry(side, P, entries, (v) => framer.frameOf(v)),
    };
  }
  return {
    stores: P,
    checkStrings: typed,
    misfit: (key) => keyMisfit(key, spec),
    partition: (key) => partitionOf(key as string | number, P),
    entry,
  };
}
