/**
 * NDJSON input, in a worker thread: a byte range of a file read in blocks; a line belongs to
 * the split in which it starts, so a line that crosses a boundary is read exactly once.
 */
import fs from 'node:fs';
import { BadRecordError } from '../../errors.js';
import { BLOCK, withBuffer } from './file-bytes.js';
import { jsonShape, scanLine } from './ndjson-fast.js';
import { growRows, keyedRows, type RecordSink, type SplitSpec } from './splits.js';

/** Rows of the fast path handed to the sink at a time: a 4 MiB block's at once read its keys back from memory. */
const FLUSH_ROWS = 2048;

/** Reads an NDJSON split, block by block, calling the sink per line. */
export async function readNdjson(split: Extract<SplitSpec, { kind: 'ndjson' }>, sink: RecordSink): Promise<{ bytes: number }> {
  return withBuffer(2 * BLOCK, (space) => readLines(split, space, sink));
}

/** Reads the lines of a split with `space` as its first read buffer. */
async function readLines(split: Extract<SplitSpec, { kind: 'ndjson' }>, space: Buffer, sink: RecordSink): Promise<{ bytes: number }> {
  const keyed = sink.keyed;
  const shape = keyed && jsonShape(keyed.key, keyed.values);
  const rows = keyedRows();
  const fh = await fs.promises.open(split.file, 'r');
  try {
    // A line belongs to the split where it starts: skip the tail of a line begun before `start`.
    let pos = split.start === 0 ? 0 : split.start - 1;
    // One buffer for the whole split: the tail of a block's last line moved to its front, the
    // next block read after it (fresh 4 MiB buffers, and joining them, cost page faults and GC).
    let buf: Buffer = space;
    let carry = 0;
    let skipping = split.start !== 0;
    let position = 0;
    for (;;) {
      if (buf.length - carry < BLOCK) buf = grownBuffer(buf, carry + BLOCK, carry); // a line longer than a block
      const { bytesRead } = await fh.read(buf, carry, BLOCK, pos);
      const eof = bytesRead === 0;
      const length = carry + bytesRead;
      const base = pos - carry; // file offset of buf[0]
      /** Hands the sink the rows read on the fast path (before any other record: positions stay in order). */
      const flush = () => {
        if (rows.count === 0) return;
        keyed!.add(position, buf, rows);
        position += rows.count;
        rows.count = 0;
      };
      // Decoded at once when each byte is one character (ASCII), so a line is a slice of it:
      // decoding line by line made the read ~7% slower. Only when a line needs JSON.parse.
      let ascii: string | null | undefined;
      const text = (from: number, to: number) => {
        if (ascii === undefined) {
          const decoded = buf.toString('utf8', 0, length);
          ascii = decoded.length === length ? decoded : null;
        }
        return ascii === null ? buf.toString('utf8', from, to) : ascii.slice(from, to);
      };
      // the lines read from this block: those that end in it (all of them at the end of the file)
      const whole = eof ? length : buf.lastIndexOf(0x0a, length - 1) + 1;
      let i = base === 0 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0; // a UTF-8 byte-order mark is not part of the first line
      let done = false;
      for (;;) {
        if (base + i >= split.end && !skipping) {
          done = true;
          break;
        }
        if (i >= whole) {
          done = eof;
          break; // the line goes on in the next block
        }
        if (skipping) {
          skipping = false;
          const nl = buf.indexOf(0x0a, i);
          i = nl < 0 || nl >= whole ? whole : nl + 1;
          continue;
        }
        if (shape && rows.count === rows.keyFrom.length) growRows(rows, shape.names.length - 1);
        const end = shape ? scanLine(buf, i, whole, shape, rows) : -1;
        if (end >= 0) {
          if (++rows.count === FLUSH_ROWS) flush(); // while their keys are still in the cache
          i = end + 1;
          continue;
        }
        const nl = buf.indexOf(0x0a, i);
        const stop = nl < 0 || nl >= whole ? whole : nl;
        if (stop > i) {
          flush();
          position = parsed(text(i, stop), base + i, position, sink);
        }
        i = stop + 1;
      }
      flush();
      if (done) return { bytes: split.end - split.start };
      buf.copy(buf, 0, whole, length);
      carry = length - whole;
      pos += bytesRead;
    }
  } finally {
    await fh.close();
  }
}

/** A buffer of `size` bytes holding the first `keep` bytes of `buf`. */
function grownBuffer(buf: Buffer, size: number, keep: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  buf.copy(b, 0, 0, keep);
  return b;
}

/** One line through `JSON.parse`: a record, a bad record, or nothing for a blank line; the next position. */
function parsed(text: string, lineStart: number, position: number, sink: RecordSink): number {
  if (/^[ \t\r\n]*$/.test(text)) return position; // JSON's whitespace only: trim() would pass an NBSP line too
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch (e) {
    // The line number costs a scan from the file's start: scatter works it out from
    // `origin` only if the error is thrown, never per skipped line.
    const error = new BadRecordError(`not JSON: ${(e as Error).message}`);
    error.origin = { position, offset: lineStart };
    sink.bad(error, position);
    return position + 1;
  }
  sink.record(record, position, lineStart);
  return position + 1;
}
