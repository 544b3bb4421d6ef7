/**
 * Append descriptors that a `File` store keeps open while it holds its directory's lock, so a
 * loop of appends to the same keys opens and stats each file once per lock hold, not once per
 * call (open + fstat + close was ~20% of W1-large). Only valid under the lock: once it is let go,
 * another process may delete or replace a file, so the holder closes them all first.
 */
import fs from 'node:fs';
import path from 'node:path';

/** An open file and its size, as this holder's own appends left it. */
interface Handle {
  fd: number;
  size: number;
}

/** Open append descriptors, at most `max` (the oldest is closed first). */
export class AppendHandles {
  readonly #open = new Map<string, Handle>();

  constructor(readonly max = 128) {}

  /** The file's size in bytes, or -1 when it does not exist. */
  sizeOf(file: string): number {
    const h = this.#open.get(file);
    if (h) return h.size;
    const stat = fs.statSync(file, { throwIfNoEntry: false });
    return stat ? stat.size : -1;
  }

  /** Appends the values to the file (created with its folder if needed). */
  append(file: string, values: readonly Uint8Array[]): void {
    const h = this.#open.get(file) ?? this.#add(file);
    for (const value of values) {
      for (let off = 0; off < value.length; ) off += fs.writeSync(h.fd, value, off, value.length - off);
      h.size += value.length;
    }
  }

  /** Closes the descriptors of these files (they are about to be removed or replaced). */
  forget(files: Iterable<string>): void {
    for (const file of files) {
      const h = this.#open.get(file);
      if (!h) continue;
      this.#open.delete(file);
      fs.closeSync(h.fd);
    }
  }

  /** Closes every descriptor. */
  closeAll(): void {
    this.forget([...this.#open.keys()]);
  }

  #add(file: string): Handle {
    if (this.#open.size >= this.max) this.forget([this.#open.keys().next().value!]);
    let fd: number;
    try {
      fd = fs.openSync(file, 'a');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fd = fs.openSync(file, 'a');
    }
    const h = { fd, size: fs.fstatSync(fd).size };
    this.#open.set(file, h);
    return h;
  }
}
