/**
 * A sorted partition as the coordinator hands it on: the chunks a gather task returned, or the
 * file it wrote (read in pieces, then deleted), as batches of records (MessagePack frames
 * decoded one at a time, as the consumer gets to them) or as NDJSON bytes.
 */
import fs from 'node:fs';
import { FrameReader } from '../../layers/frames.js';
import { Msgpack } from '../../layers/values.js';
import { Dict } from '../../stores/dict.js';
import type { SortedPartition } from '../protocol.js';

/** Decodes frames as the `Msgpack` layer wrote them (no store behind it). */
const codec = new Msgpack(new Dict());
const READ_BYTES = 1 << 20;

/** The pieces of a partition's output: its chunks, or its file's bytes (the file is deleted once read, or when reading stops). */
async function* pieces(part: SortedPartition): AsyncGenerator<Uint8Array> {
  if (part.file === undefined) return yield* part.chunks;
  const fh = await fs.promises.open(part.file, 'r');
  try {
    for (;;) {
      const buf = Buffer.allocUnsafe(READ_BYTES);
      const { bytesRead } = await fh.read(buf, 0, READ_BYTES, null);
      if (bytesRead === 0) return;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
    await fs.promises.rm(part.file, { force: true });
  }
}

/** The records of a sorted partition, a frame's worth at a time. */
export async function* recordBatches(part: SortedPartition, partition: number): AsyncGenerator<unknown[]> {
  const frames = new FrameReader(`sorted partition ${partition}`);
  for await (const piece of pieces(part)) for (const payload of frames.push(piece)) yield codec.decode(payload);
  frames.end();
}

/** The NDJSON bytes of a sorted partition. */
export const ndjsonPieces = (part: SortedPartition): AsyncGenerator<Uint8Array> => pieces(part);
