/** Where a bad record is, for its error (worker threads): file and line when there is a file, else its place in its input. */
import { csvLineOf } from './csv.js';
import { lineOf } from './file-bytes.js';
import { describeSplit, RECORDS_BATCH, type Origin, type SplitSpec } from './splits.js';
import { RIGHT_SPLITS, sideName, type Side } from '../protocol.js';

/** The place of record `o` of `split`, named as its input's option names it (a join's side: left or right). */
export async function locate(split: SplitSpec, o: Origin, side?: Side): Promise<string> {
  if (split.kind === 'csv') return `${split.file} line ${await csvLineOf(split, o.position)}`;
  if (split.kind === 'ndjson') return `${split.file} line ${await lineOf(split.file, o.offset!)}`;
  const local = localSplit(split, side);
  const input = side === undefined ? 'input' : sideName(side);
  if (local.kind === 'records') return `${input}.records item ${local.index * RECORDS_BATCH + o.position}`;
  return `${side === undefined ? '' : `${input}: `}${describeSplit(local)} record ${o.position}`;
}

/** A join side's split numbered within its own input (the right's are numbered from RIGHT_SPLITS in the job). */
export const localSplit = (split: SplitSpec, side?: Side): SplitSpec =>
  side === 1 ? { ...split, index: split.index - RIGHT_SPLITS } : split;
