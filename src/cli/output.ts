/**
 * Where the CLI's commands write (the calling thread): NDJSON to `--out FILE` or stdout, files
 * under `--out DIR`; each checked before any work, its write errors turned into rejections.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { PathError, StdoutClosedError } from '../errors.js';

/**
 * Lines to a stream, its errors turned into rejections of the calls (unlisted, a write error
 * is an "Unhandled 'error' event" crash); a closed stdout becomes a StdoutClosedError.
 */
export class Output {
  #error: Error | undefined;

  constructor(
    readonly stream: Writable,
    readonly name: string,
  ) {
    stream.on('error', (e) => (this.#error ??= e));
  }

  /** Writes a line, waiting while the stream is full. */
  async line(text: string): Promise<void> {
    return this.write(text + '\n');
  }

  /**
   * Writes every piece (whole lines); a failed write first aborts `abort`, which stops the gather
   * tasks still queued rather than waiting for them.
   */
  async writeAll(pieces: AsyncIterable<string | Uint8Array>, abort: AbortController): Promise<void> {
    for await (const piece of pieces) {
      try {
        await this.write(piece);
      } catch (e) {
        abort.abort(e);
        throw e;
      }
    }
  }

  /** Writes text or bytes (whole lines), waiting while the stream is full. */
  async write(chunk: string | Uint8Array): Promise<void> {
    this.#check();
    if (!this.stream.write(chunk))
      await new Promise<void>((resolve) => {
        // 'drain' never comes once the stream has failed: its error ends the wait too.
        const end = () => (this.stream.off('drain', end).off('error', end), resolve());
        this.stream.on('drain', end).on('error', end);
      });
    this.#check();
  }

  /** Ends a file, or waits until stdout has taken every line (so a late error is seen here). */
  async close(): Promise<void> {
    this.#check();
    if (this.stream === process.stdout) await new Promise<void>((resolve) => this.stream.write('', () => resolve()));
    else await new Promise<void>((resolve) => this.stream.end(() => resolve()).once('error', () => resolve()));
    this.#check();
  }

  #check(): void {
    const e = this.#error as NodeJS.ErrnoException | undefined;
    if (!e) return;
    if (this.stream === process.stdout && e.code === 'EPIPE') throw new StdoutClosedError('stdout was closed');
    throw new Error(`${this.name}: ${e.message}`);
  }
}

/** `--out FILE`, or stdout for none or `-`: checked before any work. */
export function outputOf(out: string | undefined): Output {
  return out === undefined || out === '-' ? new Output(process.stdout, 'stdout') : outputFile(out);
}

/** Checks `--out FILE` before any work: its directory must exist, and it must not be a directory itself. */
function outputFile(out: string): Output {
  const dir = path.dirname(out);
  if (!fs.existsSync(dir)) throw new PathError(`--out: directory ${JSON.stringify(dir)} does not exist`);
  if (!fs.statSync(dir).isDirectory()) throw new PathError(`--out: ${JSON.stringify(dir)} is not a directory`);
  if (fs.existsSync(out) && fs.statSync(out).isDirectory())
    throw new PathError(`--out: ${JSON.stringify(out)} is a directory; give a file`);
  return new Output(fs.createWriteStream(out), `--out ${out}`);
}

/** Makes `--out DIR` (and its parents) before any work; a path that is a file is refused. */
export function outputDir(out: string): void {
  if (fs.existsSync(out) && !fs.statSync(out).isDirectory())
    throw new PathError(`--out: ${JSON.stringify(out)} is a file, not a directory`);
  try {
    fs.mkdirSync(out, { recursive: true });
  } catch (e) {
    throw new PathError(`--out: cannot make directory ${JSON.stringify(out)}: ${(e as Error).message}`);
  }
}
