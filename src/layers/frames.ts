/**
 * Framing for encoded values: `0xFD · u32 BE length · payload` per appended value, so that
 * the concatenation a store returns splits back into the values that were appended.
 */
import { CorruptFrameError } from '../errors.js';

const MAGIC = 0xfd;
const HEADER = 5;
/** Bytes of a frame before its payload. */
export const FRAME_HEADER = HEADER;

/** Writes the header of a frame of `length` payload bytes at the start of `out` (for writers that lay out the payload behind it). */
export function frameHeader(out: Uint8Array, length: number): void {
  out[0] = MAGIC;
  out[1] = length >>> 24;
  out[2] = (length >>> 16) & 0xff;
  out[3] = (length >>> 8) & 0xff;
  out[4] = length & 0xff;
}

/** One value as a frame. */
export function frame(payload: Uint8Array): Uint8Array {
  const out = Buffer.allocUnsafe(HEADER + payload.length);
  frameHeader(out, payload.length);
  out.set(payload, HEADER);
  return out;
}

/** Splits bytes into frame payloads; `where` names the key in errors. */
export function unframe(bytes: Uint8Array, where: string): Uint8Array[] {
  const reader = new FrameReader(where);
  const out = reader.push(bytes);
  reader.end();
  return out;
}

/** Splits a stream of byte pieces into frame payloads, whatever the piece boundaries. */
export class FrameReader {
  #pending: Uint8Array = new Uint8Array(0);
  #offset = 0; // bytes consumed before #pending, for error messages

  constructor(readonly where: string) {}

  /** Adds a piece; returns the frames it completed. */
  push(piece: Uint8Array): Uint8Array[] {
    const buf = this.#pending.length === 0 ? piece : Buffer.concat([this.#pending, piece]);
    const frames: Uint8Array[] = [];
    let pos = 0;
    while (buf.length - pos >= HEADER) {
      if (buf[pos] !== MAGIC) throw new CorruptFrameError(`${this.where}: bad frame header at byte ${this.#offset + pos}`);
      const len = ((buf[pos + 1]! << 24) >>> 0) + (buf[pos + 2]! << 16) + (buf[pos + 3]! << 8) + buf[pos + 4]!;
      if (buf.length - pos - HEADER < len) break;
      frames.push(buf.subarray(pos + HEADER, pos + HEADER + len));
      pos += HEADER + len;
    }
    this.#offset += pos;
    this.#pending = buf.subarray(pos);
    return frames;
  }

  /** Throws if a partial frame is left over. */
  end(): void {
    if (this.#pending.length > 0) {
      throw new CorruptFrameError(`${this.where}: truncated frame at byte ${this.#offset} (${this.#pending.length} bytes left over)`);
    }
  }
}
