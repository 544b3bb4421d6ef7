/**
 * Append descriptors that a `File` store keeps open while it holds its directory's lock, so a
 * loop of appends to the same keys opens and stats each file once per lock hold, not once per
 * call (open + fstat + close was ~20% of W1-large). Only valid under the lock: once it is let go,
 * another process may delete or replace a file, so the holder closes them all first.
 */
import fs from 'node:fs';
import path from 'node:path';
import { settle, writeAll, writeAllSync } from '../writes.js';

/** A file's bytes in one call from which its write goes to the threadpool (a hop costs ~20 µs). */
const POOL_MIN = 64 * 1024;

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

  /**
   * Appends each file's values to it (created with its folder if needed). A file that gets at
   * least POOL_MIN bytes is written in the threadpool, so several files are written at once: the
   * page-cache copy is what an append of large values costs, and more cores copy faster than one
   * (docs/benchmarks.md has the measurements).
   * Settles every write before it returns or throws, so the caller may roll back at once.
   */
  async appendAll(writes: Iterable<readonly [string, readonly Uint8Array[]]>): Promise<void> {
    let pooled: Promise<void>[] = [];
    let failure: { error: unknown } | undefined;
    try {
      for (const [file, values] of writes) {
        let h = this.#open.get(file);
        if (!h) {
          // Never close a descriptor with a write in flight: let those finish first.
          if (this.#open.size >= this.max) {
            await settle(pooled);
            pooled = [];
            this.forget([this.#open.keys().next().value!]);
          }
          h = this.#add(file);
        }
        const bytes = values.reduce((n, v) => n + v.length, 0);
        h.size += bytes;
        if (bytes >= POOL_MIN) pooled.push(writeAll(h.fd, values));
        else writeAllSync(h.fd, values);
      }
    } catch (error) {
      failure = { error };
    }
    await settle(pooled, failure);
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
