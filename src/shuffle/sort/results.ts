/**
 * A sorted partition as the coordinator hands it on: the chunks a gather task returned, or the
 * file it wrote (read in pieces, then deleted: gather/spooled.ts), as batches of records
 * (MessagePack frames decoded one at a time, as the consumer gets to them) or as NDJSON bytes.
 */
import { filePieces, frameBatches } from '../gather/spooled.js';
import type { SortedPartition } from '../protocol.js';

/** The pieces of a partition's output: its chunks, or its file's bytes (the file is deleted once read, or when reading stops). */
async function* pieces(part: SortedPartition): AsyncGenerator<Uint8Array> {
  if (part.file === undefined) return yield* part.chunks;
  yield* filePieces(part.file);
}

/** The records of a sorted partition, a frame's worth at a time. */
export const recordBatches = (part: SortedPartition, partition: number): AsyncGenerator<unknown[]> =>
  frameBatches(pieces(part), `sorted partition ${partition}`);

/** The NDJSON bytes of a sorted partition. */
export const ndjsonPieces = (part: SortedPartition): AsyncGenerator<Uint8Array> => pieces(part);
