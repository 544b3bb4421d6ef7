/**
 * `partd join LEFT RIGHT --on FIELD [--right-on FIELD] [--how H] [--out FILE]` (the calling
 * thread): the joined rows as NDJSON, one `{"key","left","right"}` line each, made in the
 * workers; the same progress bars, summary line and exit status as `groupby`.
 */
import { Option, type Command } from 'commander';
import { UsageError } from '../errors.js';
import { joinNdjson, type JoinHow, type JoinStats } from '../shuffle/join/index.js';
import { jobOptions, withInput, type CommonOptions } from './commands.js';
import { outputOf } from './output.js';
import { Bars, summary } from './progress.js';

/** Options of `join`. */
export interface JoinCommandOptions extends Omit<CommonOptions, 'key'> {
  on: string;
  rightOn?: string;
  how: string;
  out?: string;
  broadcast: boolean;
}

const HOWS = ['inner', 'left', 'right', 'outer'];

/** Adds the `join` command to `program`, with the options `common` adds to every command. */
export function defineJoin(program: Command, common: (cmd: Command) => Command, exitStatus: string): void {
  common(
    program
      .command('join')
      .argument('<LEFT>', 'the left input (.ndjson, .jsonl, .csv), or - for stdin')
      .argument('<RIGHT>', 'the right input, or - for stdin (not both)')
      .requiredOption('--on <field>', 'the key field of both inputs (of the left one, with --right-on)')
      .option('--right-on <field>', "the right input's key field, when its name is not --on's")
      .addOption(new Option('--how <how>', 'the unmatched rows kept, with null for the other side').choices(HOWS).default('inner'))
      .option('--out <file>', 'output file, or - for stdout', '-')
      .option('--no-broadcast', 'shuffle both inputs even when one is small enough to send whole to every task'),
  )
    .description('join two inputs on a field: one NDJSON line per joined row {key, left, right}, null for a side without a match')
    .addHelpText(
      'after',
      '\n--format names the format of stdin (-), and of a file whose extension does not tell it.\n' +
        '\nExamples:\n  partd join orders.ndjson users.csv --on user_id --right-on id --types id:number --out joined.ndjson\n  partd join a.csv b.csv --on key --how outer > joined.ndjson\n  cat orders.ndjson | partd join - users.csv --format ndjson --on user --how left',
    )
    .addHelpText('after', exitStatus)
    .action((left: string, right: string, o: JoinCommandOptions) => joinCommand(left, right, o));
}

/** `partd join LEFT RIGHT --on F`: the joined rows to --out or stdout, then the summary line on stderr. */
export async function joinCommand(leftFile: string, rightFile: string, o: JoinCommandOptions): Promise<void> {
  if (o.on === '') throw new UsageError('--on: expected a field name, got ""');
  if (o.rightOn === '') throw new UsageError('--right-on: expected a field name, got ""');
  if (!HOWS.includes(o.how)) throw new UsageError(`--how: expected inner, left, right or outer, got ${JSON.stringify(o.how)}`);
  if (leftFile === '-' && rightFile === '-') throw new UsageError('LEFT, RIGHT: only one of them can be - (stdin)');
  const bars = new Bars(!o.quiet && process.stderr.isTTY === true);
  const abort = new AbortController();
  // --format is stdin's, or a file's whose extension does not tell: the other input may be of the other format
  const format = (file: string) => (file !== '-' && /\.(ndjson|jsonl|csv)$/i.test(file) ? undefined : o.format);
  const left = jobOptions([leftFile], { ...o, key: o.on, format: format(leftFile) }, bars, abort.signal);
  const right = jobOptions([rightFile], { ...o, key: o.rightOn ?? o.on, format: format(rightFile) }, bars, abort.signal);
  const out = outputOf(o.out);
  const { key: _key, ...shared } = left.options;
  const on = o.rightOn === undefined ? o.on : { left: o.on, right: o.rightOn };
  const t0 = performance.now();
  let stats: JoinStats | undefined;
  try {
    await withInput(left.inputs, (leftInput, leftRead) =>
      withInput(right.inputs, async (rightInput, rightRead) => {
        // a scattered side is read from the store from here on; a broadcast's other side, from its input
        const onStats = (s: JoinStats) => {
          stats = s;
          if (s.broadcast !== 'right') leftRead();
          if (s.broadcast !== 'left') rightRead();
        };
        const options = { ...shared, left: leftInput, right: rightInput, on, how: o.how as JoinHow, broadcast: o.broadcast };
        await out.writeAll(joinNdjson(options, onStats), abort);
      }),
    );
  } catch (e) {
    if (e instanceof Error) e.message = e.message.replace(/^on\.left:/, '--on:').replace(/^on\.right:/, '--right-on:');
    throw e;
  } finally {
    bars.stop();
  }
  await out.close();
  const s = stats!;
  const both = (f: 'records' | 'bytesRead' | 'badRecords' | 'resumed') => s.left[f] + s.right[f];
  process.stderr.write(
    summary({
      records: both('records'),
      bytes: both('bytesRead'),
      outputs: s.rows,
      output: 'row',
      seconds: (performance.now() - t0) / 1000,
      bad: both('badRecords'),
      resumed: both('resumed'),
    }) + '\n',
  );
}
