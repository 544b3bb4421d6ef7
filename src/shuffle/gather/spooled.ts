/**
 * What gather tasks hand back in files of the job's temporary directory (a join task's rows,
 * join/sink.ts; a sorted partition past its memory share, sort/output.ts), read back in the
 * coordinator piece by piece (a file may be far larger than memory) and removed: NDJSON bytes
 * as they are, or batches decoded from MessagePack frames as the reader gets to them.
 */
import fs from 'node:fs';
import { FrameReader } from '../../layers/frames.js';
import { Msgpack } from '../../layers/values.js';
import { Dict } from '../../stores/dict.js';

const PIECE = 1 << 20;
/** Decodes frames as the Msgpack layer does (its inner store is never used). */
const codec = new Msgpack(new Dict());

/** A file's bytes in pieces, in order; the file is removed once read, or when the reader stops. */
export async function* filePieces(file: string): AsyncGenerator<Uint8Array> {
  try {
    const handle = await fs.promises.open(file, 'r');
    try {
      for (;;) {
        const piece = Buffer.allocUnsafe(PIECE);
        const { bytesRead } = await handle.read(piece, 0, PIECE, null);
        if (bytesRead === 0) return;
        yield piece.subarray(0, bytesRead);
      }
    } finally {
      await handle.close();
    }
  } finally {
    await fs.promises.rm(file, { force: true });
  }
}

/** One MessagePack frame's payload decoded (a batch of records, as the store's Msgpack layer decodes it). */
export const decodeFrame = (payload: Uint8Array): unknown[] => codec.decode(payload);

/** The batches (each frame's array) of MessagePack frames cut anywhere into `pieces`; `name` names them in errors. */
export async function* frameBatches<T>(pieces: AsyncIterable<Uint8Array>, name: string): AsyncGenerator<T[]> {
  const reader = new FrameReader(name);
  for await (const piece of pieces) for (const payload of reader.push(piece)) yield codec.decode(payload) as T[];
  reader.end();
}
