/** Byte-level helpers shared by the file inputs (NDJSON and CSV). */
import fs from 'node:fs';

/** Bytes read from a file at a time. */
export const BLOCK = 4 << 20;

/** The bytes `[start, end)` of a file. */
export async function readRange(split: { file: string; start: number; end: number }): Promise<Buffer> {
  const fh = await fs.promises.open(split.file, 'r');
  const buf = Buffer.allocUnsafe(split.end - split.start);
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
