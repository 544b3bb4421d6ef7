/**
 * The rows a join gather attempt wrote (join/sink.ts), read back in the coordinator piece by
 * piece (a task's rows may be far larger than memory), then removed: batches of rows from
 * MessagePack frames, or the NDJSON bytes as they are.
 */
import fs from 'node:fs';
import { FrameReader } from '../../layers/frames.js';
import { Msgpack } from '../../layers/values.js';
import { Dict } from '../../stores/dict.js';

const PIECE = 1 << 20;
/** Decodes frames as the Msgpack layer does (its inner store is never used). */
const codec = new Msgpack(new Dict());

/** The pieces of a file, in order. */
async function* pieces(file: string): AsyncGenerator<Uint8Array> {
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
}

/** A MessagePack part's rows, in batches; the file is removed once read (or left to the job's directory if the reader stops early). */
export async function* partRows<T>(file: string): AsyncGenerator<T[]> {
  const reader = new FrameReader(file);
  for await (const piece of pieces(file)) for (const payload of reader.push(piece)) yield codec.decode(payload) as T[];
  reader.end();
  await fs.promises.rm(file, { force: true });
}

/** An NDJSON part's bytes, in pieces; the file is removed once read. */
export async function* partBytes(file: string): AsyncGenerator<Uint8Array> {
  yield* pieces(file);
  await fs.promises.rm(file, { force: true });
}
