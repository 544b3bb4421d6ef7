/**
 * A sorted partition as the coordinator hands it on: the chunks a gather task returned, or the
 * file it wrote (read in pieces, then deleted: gather/spooled.ts), as batches of records
 * (MessagePack frames decoded one at a time, as the consumer gets to them; or the stored blocks'
 * records, decoded at once, in the order the task sorted) or as NDJSON bytes.
 */
import { CorruptFrameError } from '../../errors.js';
import { filePieces, frameBatches } from '../gather/spooled.js';
import { decodeRecords } from './block.js';
import type { SortedPartition } from '../protocol.js';

/** The pieces of a partition's output: its chunks, or its file's bytes (the file is deleted once read, or when reading stops). */
async function* pieces(part: SortedPartition): AsyncGenerator<Uint8Array> {
  if (part.file === undefined) return yield* part.chunks;
  yield* filePieces(part.file);
}

/** Records per batch of a partition sorted in memory. */
const BATCH = 1024;

/** The records of a sorted partition, a frame's worth at a time. */
export async function* recordBatches(part: SortedPartition, partition: number): AsyncGenerator<unknown[]> {
  const { order } = part;
  if (order === undefined) return yield* frameBatches(pieces(part), `sorted partition ${partition}`);
  const records = decodeRecords(part.chunks);
  if (records.length !== order.length)
    throw new CorruptFrameError(`sorted partition ${partition}: ${records.length} records for ${order.length} places`);
  for (let i = 0; i < order.length; i += BATCH) {
    const batch = new Array<unknown>(Math.min(BATCH, order.length - i));
    for (let k = 0; k < batch.length; k++) batch[k] = records[order[i + k]!];
    yield batch;
  }
}

/** The NDJSON bytes of a sorted partition. */
export const ndjsonPieces = (part: SortedPartition): AsyncGenerator<Uint8Array> => pieces(part);
