/**
 * NDJSON input, in a worker thread: a byte range of a file read in blocks; a line belongs to
 * the split in which it starts, so a line that crosses a boundary is read exactly once.
 */
import fs from 'node:fs';
import { BadRecordError } from '../../errors.js';
import { BLOCK } from './file-bytes.js';
import { jsonShape, scanLine } from './ndjson-fast.js';
import { growRows, keyedRows, type RecordSink, type SplitSpec } from './splits.js';

export async function readNdjson(split: Extract<SplitSpec, { kind: 'ndjson' }>, sink: RecordSink): Promise<{ bytes: number }> {
  const keyed = sink.keyed;
  const shape = keyed && jsonShape(keyed.key, keyed.values);
  const rows = keyedRows();
  const fh = await fs.promises.open(split.file, 'r');
  try {
    // A line belongs to the split where it starts: skip the tail of a line begun before `start`.
    let pos = split.start === 0 ? 0 : split.start - 1;
    let carry: Buffer = Buffer.alloc(0);
    let skipping = split.start !== 0;
    let position = 0;
    for (;;) {
      const block = Buffer.allocUnsafe(BLOCK);
      const { bytesRead } = await fh.read(block, 0, BLOCK, pos);
      const eof = bytesRead === 0;
      const buf = carry.length ? Buffer.concat([carry, block.subarray(0, bytesRead)]) : block.subarray(0, bytesRead);
      const base = pos - carry.length; // file offset of buf[0]
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
          const decoded = buf.toString('utf8');
          ascii = decoded.length === buf.length ? decoded : null;
        }
        return ascii === null ? buf.toString('utf8', from, to) : ascii.slice(from, to);
      };
      let i = base === 0 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0; // a UTF-8 byte-order mark is not part of the first line
      let done = false;
      for (;;) {
        if (base + i >= split.end && !skipping) {
          done = true;
          break;
        }
        const nl = buf.indexOf(0x0a, i);
        if (nl < 0 && !eof) break; // the line goes on in the next block
        const stop = nl < 0 ? buf.length : nl;
        if (skipping) skipping = false;
        else if (stop > i) {
          if (shape && rows.count === rows.keyFrom.length) growRows(rows, shape.names.length - 1);
          if (shape && scanLine(buf, i, stop, shape, rows)) rows.count++;
          else {
            flush();
            position = parsed(text(i, stop), base + i, position, sink);
          }
        }
        if (nl < 0) {
          done = true;
          break;
        }
        i = nl + 1;
      }
      flush();
      if (done) return { bytes: split.end - split.start };
      carry = buf.subarray(i);
      pos += bytesRead;
    }
  } finally {
    await fh.close();
  }
}

/** One line through `JSON.parse`: a record, a bad record, or nothing for a blank line; the next position. */
function parsed(text: string, lineStart: number, position: number, sink: RecordSink): number {
  if (text.trim() === '') return position;
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
