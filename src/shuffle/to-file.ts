/**
 * A job's NDJSON written to a file, in the calling thread (`sortToFile`, `joinToFile`): the
 * pieces (lines made in the workers) go to a file beside `file`, renamed into place once the
 * job has succeeded, so a failed job leaves no partial file and whatever was at `file` intact.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { describe } from '../errors.js';

/**
 * Runs `job` (its pieces, its `onStats`) into `file`, which is checked before any work; resolves
 * to the stats the job reported.
 */
export async function toFile<S>(file: unknown, job: (onStats: (s: S) => void) => AsyncIterable<Uint8Array>): Promise<S> {
  if (typeof file !== 'string' || file === '') throw new TypeError(`file: expected a file path, got ${describe(file)}`);
  const target = path.resolve(file);
  const dir = path.dirname(target);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`file: directory ${JSON.stringify(dir)} does not exist`);
  const aside = path.join(dir, `.${path.basename(target)}.partd-${randomUUID()}`);
  const out = await fs.promises.open(aside, 'w');
  let stats: S | undefined;
  try {
    for await (const piece of job((s) => (stats = s)))
      for (let off = 0; off < piece.length;) off += (await out.write(piece, off)).bytesWritten;
    await out.close();
    await fs.promises.rename(aside, target);
  } catch (e) {
    await out.close().catch(() => undefined);
    await fs.promises.rm(aside, { force: true });
    throw e;
  }
  return stats!;
}
