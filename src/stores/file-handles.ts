/**
 * Append descriptors that a `File` store keeps open while it holds its directory's lock, so a
 * loop of appends to the same keys opens and stats each file once per lock hold, not once per
 * call (open + fstat + close was ~20% of W1-large). Only valid under the lock: once it is let go,
 * another process may delete or replace a file, so the holder closes them all first.
 */
import fs from 'node:fs';
import path from 'node:path';

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
   * page-cache copy is what an append of large values costs, and two cores copy ~1.5x as fast.
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
        else for (let rest = values; rest.length > 0; ) rest = skip(rest, fs.writevSync(h.fd, rest));
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

/** Writes all of `values` at the descriptor's end, in the threadpool. */
function writeAll(fd: number, values: readonly Uint8Array[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const next = (rest: readonly Uint8Array[]): void =>
      fs.writev(fd, rest as Uint8Array[], (err, written) => {
        if (err) return reject(err);
        const left = skip(rest, written);
        if (left.length > 0) next(left);
        else resolve();
      });
    next(values);
  });
}

/** `values` without their first `n` bytes (a partial write's remainder). */
export function skip(values: readonly Uint8Array[], n: number): readonly Uint8Array[] {
  let i = 0;
  while (i < values.length && n >= values[i]!.length) n -= values[i++]!.length;
  if (i === values.length) return [];
  return n === 0 ? values.slice(i) : [values[i]!.subarray(n), ...values.slice(i + 1)];
}

/** Waits for every write; then throws `failure`'s error, or else the first write's error. */
async function settle(writes: Promise<void>[], failure?: { error: unknown }): Promise<void> {
  const results = await Promise.allSettled(writes);
  if (failure) throw failure.error;
  const rejected = results.find((r) => r.status === 'rejected');
  if (rejected) throw rejected.reason;
}
