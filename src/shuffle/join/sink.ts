/**
 * Where a join gather task puts its rows, in a worker thread: a file of the attempt's own in
 * the job's directory, which the coordinator reads once the attempt has succeeded
 * (gather/spooled.ts) and no other attempt's. MessagePack frames of rows for `join()`, NDJSON
 * lines for `joinToFile` and the CLI (the lines made here, in parallel, not in the
 * coordinator). Plain file writes: a worker terminated mid-write leaves a file nobody reads.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Msgpack } from '../../layers/values.js';
import { Dict } from '../../stores/dict.js';
import { writeAllSync } from '../../stores/writes.js';
import type { ProbedFrame, TableFrame } from './probed.js';

/** Rows framed as the Msgpack layer frames a value (a store is never written: Dict is a stand-in). */
const framer = new Msgpack(new Dict());
const FRAME_ROWS = 512;
const WRITE_BYTES = 1 << 20;

/** A joined row's sides as the sink takes them. */
export type Emit = (key: unknown, left: unknown, right: unknown) => void;

export class RowSink {
  readonly file: string;
  rows = 0;
  #fd: number | undefined;
  #frame: unknown[] = [];
  #text = '';
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;

  constructor(
    dir: string,
    readonly format: 'msgpack' | 'ndjson',
    name: string,
  ) {
    this.file = path.join(dir, `${name}-${randomUUID()}.${format === 'ndjson' ? 'ndjson' : 'bin'}`);
  }

  /** Adds a row; `key` null for a row of a keyless record, a side null where it had no match. */
  readonly add: Emit = (key, left, right) => {
    this.rows++;
    if (this.format === 'msgpack') {
      this.#frame.push({ key: key ?? null, left, right });
      if (this.#frame.length >= FRAME_ROWS) this.#push(framer.frameOf(this.#frame.splice(0)));
    } else {
      // JSON.stringify(row), without making the row (a record of undefined would vanish: null instead)
      this.#text += `{"key":${JSON.stringify(key ?? null)},"left":${JSON.stringify(left) ?? 'null'},"right":${JSON.stringify(right) ?? 'null'}}\n`;
      if (this.#text.length >= WRITE_BYTES) this.#flushText();
    }
  };

  /** Adds a probed frame (join/probed.ts) of `rows` rows, or a table frame (no rows). */
  readonly probed = (frame: ProbedFrame | TableFrame, rows: number): void => {
    this.rows += rows;
    this.#push(framer.frameOf(frame));
  };

  /** Writes what is left and closes the file: its path, or undefined when there were no rows. */
  close(): string | undefined {
    if (this.#frame.length > 0) this.#push(framer.frameOf(this.#frame.splice(0)));
    if (this.#text.length > 0) this.#flushText();
    this.#write();
    if (this.#fd === undefined) return undefined;
    fs.closeSync(this.#fd);
    this.#fd = undefined;
    return this.file;
  }

  /** Closes and removes the file (a failed attempt's rows). */
  discard(): void {
    if (this.#fd !== undefined) fs.closeSync(this.#fd);
    this.#fd = undefined;
    fs.rmSync(this.file, { force: true });
  }

  #flushText(): void {
    this.#push(Buffer.from(this.#text, 'utf8'));
    this.#text = '';
  }

  #push(bytes: Uint8Array): void {
    this.#pending.push(bytes);
    this.#pendingBytes += bytes.length;
    if (this.#pendingBytes >= WRITE_BYTES) this.#write();
  }

  #write(): void {
    if (this.#pendingBytes === 0) return;
    const bytes = this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending, this.#pendingBytes);
    this.#fd ??= fs.openSync(this.file, 'w');
    writeAllSync(this.#fd, [bytes]);
    this.#pending = [];
    this.#pendingBytes = 0;
  }
}
