#!/usr/bin/env node
/**
 * The `partd` command line: groupby, shuffle, sort and join of NDJSON/CSV files, get from a
 * kept store, and the benchmark harness. Errors are one line on stderr, `partd: …` (the stack
 * too with --verbose). Exit status: see `exitStatus` below.
 */
import fs from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { StdoutClosedError, UsageError } from '../errors.js';
import { getCommand, groupbyCommand, shuffleCommand } from './commands.js';
import { defineJoin } from './join.js';
import { sortCommand } from './sort.js';
import { workerCommand } from './worker.js';

const version = (JSON.parse(fs.readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const collect = (value: string, previous: string[]) => [...previous, value];

/** The options of every job's command. */
function common(cmd: Command): Command {
  return cmd
    .option('--partitions <P>', 'number of partitions', undefined)
    .option('--workers <W>', 'worker threads (default: available parallelism)')
    .option('--memory <size>', 'memory for scatter buffers of all workers, e.g. 256MiB')
    .option(
      '--store <dir>',
      'keep the LMDB store in this directory, to resume the job by running it again (not with stdin; default: temporary, removed at the end)',
    )
    .addOption(new Option('--format <format>', 'input format (default: from the file extension)').choices(['ndjson', 'csv']))
    .option(
      '--types <field:type,...>',
      'declare column types, string or number, e.g. amount:number,id:string (repeatable; see docs/types.md)',
      collect,
      [],
    )
    .addOption(
      new Option('--on-bad-record <action>', 'a malformed line or a record without its key').choices(['error', 'skip']).default('error'),
    )
    .option('-q, --quiet', 'no progress bars')
    .option('-v, --verbose', 'errors with their stack');
}

const exitStatus = `
Exit status:
  0    done (also when the reader of stdout closes it early, as in partd ... | head)
  1    bad input (a malformed record, a missing file, an --out directory that does not exist) or a failure
  2    bad usage (an unknown option, a bad option value, stdin with --store)
  130  interrupted (Ctrl-C: the workers stop and a temporary store is removed)`;

const program = new Command('partd')
  .description('Parallel shuffles, groupBy, sort and join of NDJSON and CSV files on an LMDB store')
  .version(version)
  .exitOverride()
  // commander's message is printed below, as one `partd: …` line like every other error
  .configureOutput({ outputError: () => undefined })
  .addHelpText('after', exitStatus);

/** The options of a job that may run on `partd worker` processes. */
const distributed = (cmd: Command) =>
  cmd
    .option(
      '--redis <url>',
      "run the job on partd worker processes through this Redis (redis:// or rediss://; see docs/cluster.md); --store is then the job's name there",
    )
    .option('--queue <name>', 'the queue the workers listen on (default partd)');

/** The options of a command that partitions by --key (`what` says what the key does). */
const keyed = (cmd: Command, what = 'the field to partition (and group) by') => common(cmd.requiredOption('--key <field>', what));

distributed(keyed(program.command('groupby').argument('<FILE...>', 'input files (.ndjson, .jsonl, .csv), or - for stdin')))
  .description('group records by a field: one NDJSON line per group {key, count, sum_F, ...}')
  .option('--count', 'count records per group (the default when no aggregation is given)')
  .option('--sum <field>', 'sum of a field (repeatable)', collect, [])
  .option('--min <field>', 'minimum of a field (repeatable)', collect, [])
  .option('--max <field>', 'maximum of a field (repeatable)', collect, [])
  .option('--mean <field>', 'mean of a field (repeatable)', collect, [])
  .option('--out <file>', 'output file, or - for stdout', '-')
  .addHelpText(
    'after',
    '\nExamples:\n  partd groupby events.ndjson --key user --count --sum amount > groups.ndjson\n  partd groupby a.csv b.csv --key key --mean amount --out groups.ndjson --workers 4\n  partd groupby shops.csv --key shop --max zip --types zip:string,amount:number\n  cat x.ndjson | partd groupby - --format ndjson --key key --on-bad-record skip',
  )
  .addHelpText('after', exitStatus)
  .action((files: string[], o) => groupbyCommand(files, o));

distributed(keyed(program.command('shuffle').argument('<FILE...>', 'input files (.ndjson, .jsonl, .csv), or - for stdin')))
  .description('partition records by a field: one NDJSON file per partition in --out DIR')
  .requiredOption('--out <dir>', 'directory for part-00000.ndjson, part-00001.ndjson, ...')
  .addHelpText(
    'after',
    '\nExamples:\n  partd shuffle events.ndjson --key user --out parts/ --partitions 16\n  partd shuffle data.csv --key key --out parts/ --store kept.lmdb',
  )
  .addHelpText('after', exitStatus)
  .action((files: string[], o) => shuffleCommand(files, o));

keyed(program.command('sort').argument('<FILE...>', 'input files (.ndjson, .jsonl, .csv), or - for stdin'), 'the field to sort by')
  .description('sort records by a field: one NDJSON line per record, in key order (ties keep input order)')
  .option('--desc', 'largest key first (ties still in input order)')
  .option('--out <file>', 'output file, or - for stdout', '-')
  .addHelpText(
    'after',
    '\nKeys: numbers before strings, strings by code point; a CSV column is a number when its first rows are (or --types).\n\nExamples:\n  partd sort events.ndjson --key time > sorted.ndjson\n  partd sort sales.csv --key amount --desc --out top.ndjson\n  partd sort big.ndjson --key user --memory 64MiB --store kept',
  )
  .addHelpText('after', exitStatus)
  .action((files: string[], o) => sortCommand(files, o));

defineJoin(program, common, exitStatus);

program
  .command('worker')
  .description("run distributed jobs' tasks (groupby and shuffle with --redis) on this machine, until Ctrl-C")
  .requiredOption('--redis <url>', 'the Redis the jobs run through (redis://, rediss:// or redis-cluster://host:port,...)')
  .option('--threads <N>', 'worker threads, and tasks at once (default 1)')
  .option('--queue <name>', 'the queue to take tasks from (default partd)')
  .option('--lock-ms <ms>', 'a task not renewed for this long is handed to another worker (default 30000)')
  .addHelpText(
    'after',
    '\nExample (on each machine):\n  partd worker --redis redis://redis-host:6379 --threads 4\nthen from anywhere:\n  partd groupby /shared/x.csv --key key --sum amount --redis redis://redis-host:6379',
  )
  .action((o) => workerCommand(o));

program
  .command('get')
  .description('print what a kept store (--store DIR) holds under keys, as NDJSON')
  .argument('<DIR>', 'the store directory')
  .argument('<KEY...>', 'keys: partition numbers, or names')
  .addHelpText('after', '\nExample:\n  partd shuffle x.ndjson --key k --out parts --store st && partd get st 0 1')
  .action((dir: string, keys: string[]) => getCommand(dir, keys));

program
  .command('bench')
  .description('run the benchmark harness (the same code as npm run bench; from a clone of the repository)')
  .argument(
    '[WORKLOAD...]',
    'w1, w1-large, shuffle (w2), w3, w4, w5, w6, w6-large, sort (s1), s1-large, j1, j2, join (j1 and j2); default w1 w1-large shuffle',
  )
  .option('--records <N>', 'records for the record workloads (w2 to w6-large, s1, s1-large, j1, j2)')
  .option('--rounds <R>', 'interleaved rounds (rows report medians)')
  .option('--only <names>', 'only the stores whose names contain these (comma-separated)')
  .option('--chart <file.svg>', 'draw the ratios as a bar chart per workload')
  .addHelpText('after', '\nExamples:\n  partd bench w1\n  partd bench w4 w5 w6 --rounds 3 --chart bench.svg')
  .action(async (workloads: string[], o: Record<'records' | 'rounds' | 'only' | 'chart', string | undefined>) => {
    // the benchmarks are not in the package: they run from a clone of the repository
    const bench = new URL('../../bench/index.js', import.meta.url);
    if (!fs.existsSync(bench))
      throw new Error(
        'bench: the benchmarks run from a clone of the repository (npm ci && npm run bench); the installed package does not include them',
      );
    const { runBench } = (await import(bench.href)) as { runBench(argv: string[]): Promise<void> };
    const flags = (['records', 'rounds', 'only', 'chart'] as const).flatMap((name) =>
      o[name] === undefined ? [] : [`--${name}`, o[name]],
    );
    await runBench([...workloads, ...flags]);
  });

/** The library names its options (`partitions: …`, `types.amount: …`); on the command line they are flags. */
function flagNames(message: string): string {
  return message
    .replace(/^cluster\.(redis|queue):/, '--$1:')
    .replace(
      /^(partitions|workers|memory|key|store|types|on|how|threads)(?:\.([^:\s]+))?:/,
      (_, name: string, field?: string) => `--${name}${field ? ` ${field}` : ''}:`,
    );
}

// A reader that closes stdout early makes writes fail with EPIPE: the commands stop quietly
// (StdoutClosedError); this listener keeps any other write (help text) from crashing.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') return;
  process.stderr.write(`partd: stdout: ${e.message}\n`);
  process.exit(1);
});
// stderr closed early (`partd … 2>&1 | head -1`): there is nowhere left to report to
process.stderr.on('error', () => undefined);

// Ctrl-C: exiting runs the temporary-store cleanup (signal-exit) and ends the worker threads.
process.once('SIGINT', () => {
  process.stderr.write('\npartd: interrupted\n');
  process.exit(130);
});

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // --help and --version exit 0; `partd` alone prints the help on stderr: bad usage
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help')
      process.exitCode = e.exitCode === 0 ? 0 : 2;
    else {
      const sub = program.commands.find((c) => c.name() === process.argv[2]);
      process.stderr.write(
        `partd: ${e.message.replace(/^error: /, '')} (partd ${sub ? `${sub.name()} ` : ''}--help shows the ${sub ? 'options' : 'commands'})\n`,
      );
      process.exitCode = 2;
    }
  } else if (e instanceof StdoutClosedError) {
    process.exitCode = 0;
  } else {
    const err = e as Error;
    const verbose = process.argv.includes('--verbose') || process.argv.includes('-v');
    process.stderr.write(`partd: ${verbose && err.stack ? err.stack : flagNames(err.message)}\n`);
    process.exitCode = e instanceof UsageError || e instanceof RangeError ? 2 : 1;
  }
}
