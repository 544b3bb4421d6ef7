/**
 * A sorted partition's output, in a gather worker: its records in order, as MessagePack
 * frames of records or as NDJSON lines, kept in memory and returned with the task's result, or
 * — past `limit` bytes — written to a file the coordinator reads and deletes (sort/results.ts).
 */
import fs from 'node:fs';
import { BadRecordError } from '../../errors.js';
import { writeAllSync } from '../../stores/writes.js';
import { framer } from '../scatter/outbox.js';
import type { SortedPartition, SortReduce } from '../protocol.js';

/** Records per output chunk: a frame the coordinator decodes as its reader gets to it. */
const CHUNK_RECORDS = 1024;

export class PartitionOutput {
  readonly #chunks: Uint8Array[] = [];
  #pending: unknown[] = [];
  #bytes = 0;
  #count = 0;
  #fd: number | undefined;

  constructor(
    readonly partition: number,
    readonly format: SortReduce['format'],
    readonly limit: number,
    /** The file to write once past `limit`. */
    readonly file: string,
  ) {}

  push(record: unknown): void {
    this.#pending.push(record);
    if (this.#pending.length === CHUNK_RECORDS) this.#flush();
  }

  /** The partition as the gather task returns it. */
  finish(runs: number): SortedPartition {
    this.#flush();
    if (this.#fd === undefined) return { count: this.#count, runs, chunks: this.#chunks };
    fs.closeSync(this.#fd);
    return { count: this.#count, runs, chunks: [], file: this.file };
  }

  /** Closes the file of an output given up on (the caller removes it). */
  abandon(): void {
    if (this.#fd !== undefined) fs.closeSync(this.#fd);
    this.#fd = undefined;
  }

  #flush(): void {
    const records = this.#pending;
    if (records.length === 0) return;
    this.#pending = [];
    this.#count += records.length;
    const chunk = this.format === 'msgpack' ? framer.frameOf(records) : Buffer.from(this.#lines(records));
    if (this.#fd !== undefined) return writeAllSync(this.#fd, [chunk]);
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
    if (this.#bytes <= this.limit) return;
    this.#fd = fs.openSync(this.file, 'w');
    writeAllSync(this.#fd, this.#chunks.splice(0));
  }

  #lines(records: unknown[]): string {
    let text = '';
    for (const r of records) {
      let line: string | undefined;
      try {
        line = JSON.stringify(r);
      } catch (e) {
        throw new BadRecordError(`partition ${this.partition}: a sorted record cannot be written as JSON (${(e as Error).message})`);
      }
      text += (line ?? 'null') + '\n';
    }
    return text;
  }
}
