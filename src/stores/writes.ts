/**
 * Writing a whole list of buffers: a write may take fewer bytes than asked, and the rest
 * follows. Writes in the threadpool let several files be written at once (several cores copy
 * into the page cache faster than one).
 */
import fs from 'node:fs';

/**
 * Writes all of `values` at `position`, or at the end when `position` is null (an append
 * descriptor), in this thread.
 */
export function writeAllSync(fd: number, values: readonly Uint8Array[], position: number | null = null): void {
  for (let rest = values, at = position; rest.length > 0;) {
    const n = fs.writevSync(fd, rest as Uint8Array[], at ?? undefined);
    rest = skip(rest, n);
    if (at !== null) at += n;
  }
}

/** `writeAllSync` in the threadpool. */
export function writeAll(fd: number, values: readonly Uint8Array[], position: number | null = null): Promise<void> {
  return new Promise((resolve, reject) => {
    const next = (rest: readonly Uint8Array[], at: number | null): void =>
      fs.writev(fd, rest as Uint8Array[], at, (err, n) => {
        if (err) return reject(err);
        const left = skip(rest, n);
        if (left.length > 0) next(left, at === null ? null : at + n);
        else resolve();
      });
    next(values, position);
  });
}

/** `values` without their first `n` bytes (a partial write's remainder). */
export function skip(values: readonly Uint8Array[], n: number): readonly Uint8Array[] {
  let i = 0;
  while (i < values.length && n >= values[i]!.length) n -= values[i++]!.length;
  if (i === values.length) return [];
  return n === 0 ? values.slice(i) : [values[i]!.subarray(n), ...values.slice(i + 1)];
}

/**
 * Waits for every write to settle — a descriptor must not be closed, nor a file rolled back,
 * under a write in flight — then throws `failure`'s error, or else the first write's error.
 */
export async function settle(writes: readonly Promise<unknown>[], failure?: { error: unknown }): Promise<void> {
  const results = await Promise.allSettled(writes);
  if (failure) throw failure.error;
  const rejected = results.find((r) => r.status === 'rejected');
  if (rejected) throw rejected.reason;
}
