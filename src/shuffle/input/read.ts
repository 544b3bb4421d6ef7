/** Reading a split, in a worker thread: its records handed to a sink, whatever the input kind. */
import { BadRecordError } from '../../errors.js';
import { loadRef } from '../runtime/modules.js';
import { readCsv } from './csv.js';
import { readNdjson } from './ndjson.js';
import type { RecordSink, SplitSpec } from './splits.js';

/** Reads one split, calling the sink per record. */
export async function readSplit(split: SplitSpec, sink: RecordSink): Promise<{ bytes: number }> {
  switch (split.kind) {
    case 'range': {
      if (split.perIndex) {
        // A plain loop: no iterator protocol per record.
        const make = await loadRef<(i: number) => unknown>(split.generator);
        for (let i = split.start; i < split.end; i++) sink.record(make(i), i - split.start);
        return { bytes: 0 };
      }
      const gen = await loadRef<(start: number, end: number) => Iterable<unknown>>(split.generator);
      let position = 0;
      for (const record of gen(split.start, split.end)) sink.record(record, position++);
      return { bytes: 0 };
    }
    case 'records': {
      const unsendable = new Map(split.unsendable);
      split.records.forEach((record, position) => {
        const why = unsendable.get(position);
        if (why === undefined) sink.record(record, position);
        else sink.bad(new BadRecordError(why), position);
      });
      return { bytes: 0 };
    }
    case 'ndjson':
      return readNdjson(split, sink);
    case 'csv':
      return readCsv(split, sink);
  }
}
