/**
 * NDJSON input, in a worker thread: a byte range of a file read in blocks; a line belongs to
 * the split in which it starts, so a line that crosses a boundary is read exactly once.
 */
import fs from 'node:fs';
import { BadRecordError } from '../../errors.js';
import { BLOCK } from './file-bytes.js';
import type { RecordSink, SplitSpec } from './splits.js';

export async function readNdjson(split: Extract<SplitSpec, { kind: 'ndjson' }>, sink: RecordSink): Promise<{ bytes: number }> {
  const fh = await fs.promises.open(split.file, 'r');
  try {
    // A line belongs to the split where it starts: skip the tail of a line begun before `start`.
    let pos = split.start === 0 ? 0 : split.start - 1;
    let carry: Buffer = Buffer.alloc(0);
    let skipping = split.start !== 0;
    let lineStart = pos;
    let position = 0;
    for (;;) {
      const block = Buffer.allocUnsafe(BLOCK);
      const { bytesRead } = await fh.read(block, 0, BLOCK, pos);
      const eof = bytesRead === 0;
      const buf = carry.length ? Buffer.concat([carry, block.subarray(0, bytesRead)]) : block.subarray(0, bytesRead);
      const base = pos - carry.length; // file offset of buf[0]
      // Decoded at once when each byte is one character (ASCII), so a line is a slice of it:
      // decoding line by line made the read ~7% slower.
      const decoded = buf.toString('utf8');
      const ascii = decoded.length === buf.length ? decoded : undefined;
      let i = base === 0 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0; // a UTF-8 byte-order mark is not part of the first line
      for (;;) {
        if (base + i >= split.end && !skipping) return { bytes: split.end - split.start };
        const nl = buf.indexOf(0x0a, i);
        if (nl < 0 && !eof) break;
        const stop = nl < 0 ? buf.length : nl;
        if (skipping) skipping = false;
        else if (stop > i) {
          lineStart = base + i;
          const text = ascii === undefined ? buf.toString('utf8', i, stop) : ascii.slice(i, stop);
          if (text.trim() !== '') {
            let record: unknown;
            let parsed = true;
            try {
              record = JSON.parse(text);
            } catch (e) {
              parsed = false;
              // The line number costs a scan from the file's start: scatter works it out from
              // `origin` only if the error is thrown, never per skipped line.
              const error = new BadRecordError(`not JSON: ${(e as Error).message}`);
              error.origin = { position, offset: lineStart };
              sink.bad(error, position++);
            }
            if (parsed) sink.record(record, position++, lineStart);
          }
        }
        if (nl < 0) return { bytes: split.end - split.start };
        i = nl + 1;
      }
      carry = buf.subarray(i);
      pos += bytesRead;
    }
  } finally {
    await fh.close();
  }
}
