/** Byte-level helpers shared by the file inputs (NDJSON and CSV). */
import fs from 'node:fs';

/** Bytes read from a file at a time. */
export const BLOCK = 4 << 20;

/** Buffers given back by `withBuffer`'s callers, for the next split this thread reads. */
const spare: Buffer[] = [];

/**
 * Lends `use` a buffer of at least `size` bytes, taken back when it settles: a thread reads
 * split after split into the same memory (a fresh buffer per split cost page faults, and GCs
 * for its external memory). `use` must not keep the buffer, or views of it, once settled.
 */
export async function withBuffer<T>(size: number, use: (buf: Buffer) => Promise<T>): Promise<T> {
  let buf = spare.pop();
  if (buf === undefined || buf.length < size) buf = Buffer.allocUnsafe(Math.max(size, buf?.length ?? 0));
  try {
    return await use(buf);
  } finally {
    if (spare.length < 2) spare.push(buf);
  }
}

/** The bytes `[start, end)` of a file, in `into` when given (it must be large enough), else in a new buffer. */
export async function readRange(split: { file: string; start: number; end: number }, into?: Buffer): Promise<Buffer> {
  const fh = await fs.promises.open(split.file, 'r');
  const buf = into ? into.subarray(0, split.end - split.start) : Buffer.allocUnsafe(split.end - split.start);
  try {
    await fh.read(buf, 0, buf.length, split.start);
  } finally {
    await fh.close();
  }
  return buf;
}

/** How many `\n` bytes `buf` holds. */
export function countNewlines(buf: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(0x0a); i >= 0; i = buf.indexOf(0x0a, i + 1)) n++;
  return n;
}

/** The 1-based line number of a byte offset (only computed for an error). */
export async function lineOf(file: string, offset: number): Promise<number> {
  let line = 1;
  const fh = await fs.promises.open(file, 'r');
  try {
    const block = Buffer.allocUnsafe(BLOCK);
    for (let pos = 0; pos < offset;) {
      const { bytesRead } = await fh.read(block, 0, Math.min(BLOCK, offset - pos), pos);
      if (bytesRead === 0) break;
      line += countNewlines(block.subarray(0, bytesRead));
      pos += bytesRead;
    }
  } finally {
    await fh.close();
  }
  return line;
}
