/**
 * Pointers to values in an `Lmdb` store's value files (lmdb/files.ts), and the descriptors one
 * read opens to follow them.
 */
import fs from 'node:fs';
import path from 'node:path';

/** A pointer's size: file id (16 bytes) · offset (8) · length (8). */
export const POINTER_BYTES = 32;

/** Where a value is: its file, offset and length. */
export interface Pointer {
  file: string;
  offset: number;
  length: number;
}

export function parsePointer(p: Buffer): Pointer {
  return { file: p.subarray(0, 16).toString('hex'), offset: Number(p.readBigUInt64BE(16)), length: Number(p.readBigUInt64BE(24)) };
}

export function pointerBytes({ file, offset, length }: Pointer): Buffer {
  const p = Buffer.allocUnsafe(POINTER_BYTES);
  p.write(file, 0, 16, 'hex');
  p.writeBigUInt64BE(BigInt(offset), 16);
  p.writeBigUInt64BE(BigInt(length), 24);
  return p;
}

/**
 * The value files one read has opened, each once, until `close`. A file opened here stays
 * readable after it is retired (unlinked), so a read opens the files it needs up front.
 */
export class OpenFiles {
  readonly #fds = new Map<string, number>();

  /** @param dir the store's value-file directory */
  constructor(readonly dir: string) {}

  /** Opens `file` (once). */
  open(file: string): number {
    let fd = this.#fds.get(file);
    if (fd === undefined) this.#fds.set(file, (fd = fs.openSync(path.join(this.dir, file), 'r')));
    return fd;
  }

  /** Reads the value `p` points to into `out` at `at` (a new buffer by default); returns the bytes read. */
  read(p: Pointer, out: Uint8Array = Buffer.allocUnsafe(p.length), at = 0): Uint8Array {
    const fd = this.open(p.file);
    for (let got = 0; got < p.length;) {
      const n = fs.readSync(fd, out, at + got, p.length - got, p.offset + got);
      if (n === 0) throw new Error(`value file ${p.file} ends before offset ${p.offset + p.length}`);
      got += n;
    }
    return out.subarray(at, at + p.length);
  }

  /** The value `p` points to, in pieces of at most `max` bytes. */
  *pieces(p: Pointer, max: number): Generator<Uint8Array> {
    for (let off = 0; off < p.length; off += max)
      yield this.read({ file: p.file, offset: p.offset + off, length: Math.min(max, p.length - off) });
  }

  /** Hands every open file over to `other` (which closes them); this one is left empty. */
  moveTo(other: OpenFiles): void {
    for (const [file, fd] of this.#fds) other.#fds.set(file, fd);
    this.#fds.clear();
  }

  close(): void {
    for (const fd of this.#fds.values()) fs.closeSync(fd);
    this.#fds.clear();
  }
}
