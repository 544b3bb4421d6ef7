/** `partd sort`: the records of NDJSON or CSV files in key order, as NDJSON (the lines are made in the workers). */
import { sortedNdjson, type SortStats } from '../shuffle/sort/index.js';
import { jobOptions, withInput, type CommonOptions } from './commands.js';
import { outputOf } from './output.js';
import { Bars, summary } from './progress.js';

/** Options of `sort`. */
export interface SortCommandOptions extends CommonOptions {
  desc?: boolean;
  out?: string;
}

/** `partd sort FILE… --key F [--desc] [--out FILE]`: one NDJSON line per record, in key order (ties in input order). */
export async function sortCommand(files: string[], o: SortCommandOptions): Promise<void> {
  const bars = new Bars(!o.quiet && process.stderr.isTTY === true);
  const abort = new AbortController();
  const { inputs, options } = jobOptions(files, o, bars, abort.signal);
  const out = outputOf(o.out);
  const t0 = performance.now();
  let stats: SortStats | undefined;
  try {
    await withInput(inputs, async (input, done) => {
      const onStats = (s: SortStats) => ((stats = s), done()); // scattered: the gather reads the store only
      await out.writeAll(sortedNdjson({ ...options, input, descending: o.desc === true }, onStats), abort);
    });
  } finally {
    bars.stop();
  }
  await out.close();
  const s = stats!;
  process.stderr.write(
    summary({
      records: s.records,
      bytes: s.bytesRead,
      outputs: s.records,
      output: 'sorted line',
      seconds: (performance.now() - t0) / 1000,
      bad: s.badRecords,
      resumed: s.resumed,
    }) + '\n',
  );
}
