/**
 * A scatter session's map-side combine, in a worker thread: records folded into per-key states
 * (`groupby/groups.ts`, or `groupby/byte-groups.ts` for rows a reader hands over as key bytes),
 * drained into the outbox as one block of states per partition at each commit. When the combine
 * fills having merged fewer than MERGE_MIN records per group, it stops combining and passes each
 * record's state straight to its partition's block (as Spark's and DuckDB's adaptive partial
 * aggregation do): a large map that merges little costs more than it saves.
 */
import { BadRecordError } from '../../errors.js';
import type { CustomReducer, PlannedAgg } from '../groupby/aggregations.js';
import { byteGroupsOf, type ByteGroups } from '../groupby/byte-groups.js';
import { emptyBlock, groupsOf, type Groups, type StateBlock } from '../groupby/groups.js';
import type { KeyedRows } from '../input/splits.js';
import { partitionOf } from '../partitioner.js';
import { framer, type Outbox } from './outbox.js';

const MERGE_MIN = 1.5;
/** Rows of a passed-through block framed at a time. */
const PASS_ROWS = 256;

export class Combine {
  readonly #groups: Groups;
  /** The groups of rows handed over as key bytes (made on the first one). */
  #byteGroups: ByteGroups | undefined;
  /** Records combined since the last drain. */
  #combined = 0;
  #passing = false;
  readonly #passBlocks: (StateBlock | undefined)[] = [];
  /** Rows passed through since the last drain: they count as groups, so commits come as often as when combining. */
  #passRows = 0;

  /** `maxGroups`: the groups held (and rows passed) at which the session commits; `fields`: the value fields of byte rows. */
  constructor(
    readonly plan: readonly PlannedAgg[],
    reducers: readonly (CustomReducer | undefined)[],
    readonly fields: readonly string[] | undefined,
    readonly partitions: number,
    readonly maxGroups: number,
    readonly outbox: Outbox,
  ) {
    this.#groups = groupsOf(plan, reducers);
  }

  /** Whether the session should commit (and so drain). */
  get full(): boolean {
    return this.#groups.size + (this.#byteGroups?.size ?? 0) + this.#passRows >= this.maxGroups;
  }

  /** Adds a record (`ord`: its ordinal, 0 when the plan needs none); as `Groups.add`, the index of the aggregation it misfits, else -1. */
  add(key: string | number, record: unknown, ord: number): number {
    if (!this.#passing) {
      this.#combined++;
      return this.#groups.add(key, record, ord);
    }
    const p = partitionOf(key, this.partitions);
    const block = (this.#passBlocks[p] ??= emptyBlock(this.plan.length));
    const failed = this.#groups.pass(key, record, ord, block);
    if (failed !== -1) return failed;
    this.#passRows++;
    if (block[0].length >= PASS_ROWS) this.#frame(p, block);
    return -1;
  }

  /** Adds rows `[from, to)` of a block of key bytes, or those before the combine is full; the index after the last one added. */
  addRows(bytes: Uint8Array, rows: KeyedRows, from: number, to: number): number {
    const groups = (this.#byteGroups ??= byteGroupsOf(this.plan, this.fields!));
    return groups.addRows(bytes, rows, from, to, this.maxGroups - this.#groups.size - this.#passRows);
  }

  /** Hands every group and passed row to the outbox; decides whether to pass through from now on. */
  drain(): void {
    const size = this.#groups.size;
    if (size >= this.maxGroups && this.#combined < MERGE_MIN * size) this.#passing = true;
    this.#combined = this.#passRows = 0;
    for (const groups of this.#byteGroups ? [this.#groups, this.#byteGroups] : [this.#groups])
      groups.drain(this.partitions).forEach((block, p) => block && this.#frame(p, block));
    this.#passBlocks.forEach((block, p) => block && this.#frame(p, block));
  }

  #frame(p: number, block: StateBlock): void {
    try {
      this.outbox.add(p, framer.frameOf([block]));
    } catch (e) {
      throw new BadRecordError(`a value kept by first, last or collect cannot be stored (MessagePack: ${(e as Error).message})`);
    }
    if (this.#passBlocks[p] === block) this.#passBlocks[p] = undefined;
  }
}
