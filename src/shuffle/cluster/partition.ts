/**
 * A distributed job's partition read by its coordinator (`ShuffleHandle.get` and `iterate`): the
 * committed blocks split by split, in split order. A split's blocks are all checked (size and
 * CRC-32) before any of them is yielded, so that a split found missing or corrupt can be
 * scattered again and the read go on from that split with nothing yielded twice or left out —
 * or the job fail, as recover.ts decides. Runs in the calling thread.
 */
import { readBlocks } from './blocks.js';
import type { Block } from './messages.js';
import { rerun } from './recover.js';
import type { PartitionBlocks, RunState } from './tracked.js';

/** What the read needs of the run: its state, and its poll loop (which sees the re-run splits' commits). */
export interface PartitionSource {
  readonly state: RunState;
  until(done: () => boolean): Promise<void>;
}

/** One split's blocks of the partition. */
interface Unit {
  split: number;
  blocks: Block[];
  bytes: number;
}
type Read = Awaited<ReturnType<typeof readBlocks>>;

/**
 * Partition `p`'s bytes, one array per split: checked, re-scattered first where blocks were lost.
 * Blocks are read up to `ahead` bytes beyond the split being yielded (at least one split;
 * `Infinity`: all at once, for a whole partition).
 */
export async function* partitionChunks(run: PartitionSource, p: number, ahead: number): AsyncGenerator<Buffer[]> {
  const { state } = run;
  let from = 0; // the splits before were yielded
  for (;;) {
    // a split re-run (ours, or a gather's) has no blocks in the view until it commits again
    if (!state.allCommitted()) await run.until(() => state.allCommitted());
    const units = unitsOf(state.blocksOf(p)).filter((u) => u.split >= from);
    const reading: { unit: Unit; read: Promise<Read> }[] = [];
    let next = 0;
    let buffered = 0;
    const fill = () => {
      for (; next < units.length && (reading.length === 0 || buffered + units[next]!.bytes <= ahead); next++) {
        const unit = units[next]!;
        const read = readBlocks(state.link, unit.blocks);
        void read.catch(() => undefined); // awaited in turn, or left when the consumer stops
        reading.push({ unit, read });
        buffered += unit.bytes;
      }
    };
    let lost: { splits: number[]; why: string } | undefined;
    for (fill(); reading.length > 0; fill()) {
      const { unit, read } = reading.shift()!;
      buffered -= unit.bytes;
      const r = await read;
      if ('lost' in r) {
        // the splits in flight found lost too are re-run with it, as one read of the whole partition would
        const others = await Promise.all(reading.map((x) => x.read));
        lost = { splits: [unit.split, ...reading.filter((_, i) => 'lost' in others[i]!).map((x) => x.unit.split)], why: r.why };
        break;
      }
      from = unit.split + 1;
      yield r.chunks;
    }
    if (!lost) return;
    await rerun(state, lost.splits, lost.why);
  }
}

/** A partition's blocks grouped by split (a split's blocks are consecutive). */
function unitsOf({ blocks, splits }: PartitionBlocks): Unit[] {
  const units: Unit[] = [];
  for (const [i, b] of blocks.entries()) {
    const last = units.at(-1);
    if (last && last.split === splits[i]) {
      last.blocks.push(b);
      last.bytes += b[2];
    } else units.push({ split: splits[i]!, blocks: [b], bytes: b[2] });
  }
  return units;
}
