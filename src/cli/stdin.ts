/** Records from standard input (`-`), parsed in the calling thread and sent to the workers in batches. */
import readline from 'node:readline';
import { parse } from 'csv-parse';
import { BadRecordError } from '../errors.js';
import type { Format } from './args.js';

/** Parses stdin as NDJSON or CSV (header row); bad lines throw or, with `skip`, are counted. */
export async function* stdinRecords(format: Format, skip: boolean, counts: { bad: number }): AsyncGenerator<unknown> {
  if (format === 'ndjson') {
    let line = 0;
    for await (const text of readline.createInterface({ input: process.stdin, crlfDelay: Infinity })) {
      line++;
      if (text.trim() === '') continue;
      try {
        yield JSON.parse(text);
      } catch (e) {
        if (!skip) throw new BadRecordError(`<stdin> line ${line}: not JSON: ${(e as Error).message}`);
        counts.bad++;
      }
    }
    return;
  }
  const parser = process.stdin.pipe(
    parse({
      columns: true,
      cast: true,
      skip_empty_lines: true,
      skip_records_with_error: skip,
      on_skip: () => void counts.bad++,
    }),
  );
  try {
    for await (const record of parser) yield record;
  } catch (e) {
    const err = e as Error & { lines?: number };
    throw new BadRecordError(`<stdin> line ${err.lines ?? '?'}: ${err.message}`);
  }
}
