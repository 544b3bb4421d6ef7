/** The built CLI, spawned as a user runs it. */
import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { cli, partd } from './support/cli.js';
import { tempDirs } from './support/temp-dirs.js';

const tmp = tempDirs('partd-cli-');

const records = Array.from({ length: 3000 }, (_, i) => ({ id: i, key: `k${i % 7}`, amount: i % 10, tag: i % 2 ? 'odd' : 'even' }));
function reference() {
  const m = new Map<string, { key: string; count: number; sum_amount: number; max_amount: number }>();
  for (const r of records) {
    const g = m.get(r.key) ?? { key: r.key, count: 0, sum_amount: 0, max_amount: -Infinity };
    g.count++;
    g.sum_amount += r.amount;
    g.max_amount = Math.max(g.max_amount, r.amount);
    m.set(r.key, g);
  }
  return [...m.values()].sort((a, b) => a.key.localeCompare(b.key));
}
const parseLines = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
const byKey = (rows: Record<string, unknown>[]) => rows.sort((a, b) => String(a.key).localeCompare(String(b.key)));

/** A directory for TMPDIR, to see what a run leaves in it. */
const tmpdirRun = () => {
  const tmpdir = tmp();
  return { tmpdir, env: { TMPDIR: tmpdir } };
};
const ndjsonOf = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

function files() {
  const dir = tmp();
  const ndjson = path.join(dir, 'in.ndjson');
  fs.writeFileSync(ndjson, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const csv = path.join(dir, 'in.csv');
  fs.writeFileSync(csv, 'id,key,amount,tag\n' + records.map((r) => `${r.id},${r.key},${r.amount},"${r.tag}, really"`).join('\n') + '\n');
  return { dir, ndjson, csv };
}

describe('partd groupby', () => {
  it.each(['ndjson', 'csv'] as const)(
    'groups a %s file into NDJSON lines on stdout, with a summary line and no bar off a terminal',
    async (kind) => {
      const f = files();
      const r = await partd([
        'groupby',
        f[kind],
        '--key',
        'key',
        '--count',
        '--sum',
        'amount',
        '--max',
        'amount',
        '--partitions',
        '3',
        '--workers',
        '2',
      ]);
      expect(r.code).toBe(0);
      expect(byKey(parseLines(r.stdout))).toEqual(reference());
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^partd: 3,000 records → 7 groups in [\d.]+ s \([\d,]+ records\/s, \d+ MB\/s\), peak memory \d+ MiB\n$/);
      expect(r.stderr).not.toMatch(/[█░]/);
    },
  );

  it('reads stdin with --format and writes --out FILE', async () => {
    const f = files();
    const out = path.join(f.dir, 'groups.ndjson');
    const r = await partd(['groupby', '-', '--format', 'ndjson', '--key', 'key', '--out', out, '--quiet'], {
      input: fs.readFileSync(f.ndjson, 'utf8'),
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(byKey(parseLines(fs.readFileSync(out, 'utf8')))).toEqual(reference().map(({ key, count }) => ({ key, count })));
  });

  it('a sum past Number.MAX_VALUE is written 1e999 (read back as Infinity), never null', async () => {
    const dir = tmp();
    const csv = path.join(dir, 'big.csv');
    // a key named "Infinity" too: the marker the writer uses must not meet one in the data
    fs.writeFileSync(csv, 'key,amount\nup,1e308\nup,1e308\nInfinity,1\ndown,-1e308\ndown,-1e308\nback,1e308\nback,1e308\nback,-1e308\n');
    const r = await partd(['groupby', csv, '--key', 'key', '--sum', 'amount', '--quiet']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/"sum_amount":1e999/);
    const want = { up: Infinity, Infinity: 1, down: -Infinity, back: 1e308 }; // exact sums, rounded
    expect(byKey(parseLines(r.stdout))).toEqual(byKey(Object.entries(want).map(([key, sum_amount]) => ({ key, sum_amount }))));
  });

  it.each([
    [['groupby', 'x.ndjson'], /required option '--key/],
    [['groupby', 'in.ndjson', '--key', 'k', '--partitions', 'zero'], /--partitions: expected a positive integer/],
    [['groupby', 'in.ndjson', '--key', 'k', '--memory', 'lots'], /--memory: expected a size/],
    [['groupby', 'in.txt', '--key', 'k'], /--format/],
    [['groupby', 'in.ndjson', '--key', 'k', '--on-bad-record', 'ignore'], /--on-bad-record/],
    [['frobnicate'], /unknown command/],
  ])('bad usage %j exits 2 with one line naming the problem', async (args, message) => {
    const f = files();
    const r = await partd(args.map((a) => (a === 'in.ndjson' ? f.ndjson : a)));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/^partd: [^\n]*\n$/); // commander's errors too: one line, like every other
  });

  it('a bad record exits 1 naming the file and line; --verbose adds the stack; skip reports the count', async () => {
    const f = files();
    const bad = path.join(f.dir, 'bad.ndjson');
    fs.writeFileSync(bad, '{"key":"a","amount":1}\n{"key":"b","amount":2}\n{broken\n{"amount":3}\n');
    const r = await partd(['groupby', bad, '--key', 'key']);
    expect(r.code).toBe(1);
    expect(r.stderr.startsWith(`partd: ${bad} line 3: not JSON: `)).toBe(true);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    const verbose = await partd(['groupby', bad, '--key', 'key', '--verbose']);
    expect(verbose.stderr).toMatch(/line 3[\s\S]*\n\s+at /);
    const skip = await partd(['groupby', bad, '--key', 'key', '--on-bad-record', 'skip']);
    expect(skip.code).toBe(0);
    expect(byKey(parseLines(skip.stdout))).toEqual([
      { key: 'a', count: 1 },
      { key: 'b', count: 1 },
    ]);
    expect(skip.stderr).toMatch(/2 bad records skipped/);
    const missing = await partd(['groupby', path.join(f.dir, 'nope.ndjson'), '--key', 'key']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nope.ndjson: no such file/);
  });

  it('Ctrl-C mid-run exits 130 and leaves no temporary directory', async () => {
    const tmpdir = tmp();
    const r = await partd(['groupby', '-', '--format', 'ndjson', '--key', 'key'], {
      env: { TMPDIR: tmpdir },
      during: (child) => {
        child.stdin!.write('{"key":"a"}\n'.repeat(1000)); // and keep stdin open: the run cannot finish
        const poll = setInterval(() => {
          // stdin is copied to a temporary file first: caught while it is being copied
          if (fs.readdirSync(tmpdir).some((d) => d.startsWith('partd-stdin-') && fs.readdirSync(path.join(tmpdir, d)).length > 0)) {
            clearInterval(poll);
            child.kill('SIGINT');
          }
        }, 20);
      },
    });
    expect(r.code).toBe(130);
    expect(fs.readdirSync(tmpdir)).toEqual([]);
  });
  it('Ctrl-C during a job on a file exits 130, one line, and leaves no temporary store', async () => {
    const dir = tmp();
    const input = path.join(dir, 'many.ndjson');
    fs.writeFileSync(input, ndjsonOf(Array.from({ length: 300_000 }, (_, i) => ({ key: `k${i % 5000}`, amount: i }))));
    const { tmpdir, env } = tmpdirRun();
    const r = await partd(['groupby', input, '--key', 'key', '--sum', 'amount', '--workers', '1'], {
      env,
      during: (child) => {
        child.stdin!.end();
        const poll = setInterval(() => {
          if (fs.readdirSync(tmpdir).some((d) => d.startsWith('partd-lmdb-'))) {
            clearInterval(poll);
            child.kill('SIGINT');
          }
        }, 10);
      },
    });
    expect({ code: r.code, stderr: r.stderr.trim() }).toEqual({ code: 130, stderr: 'partd: interrupted' });
    expect(fs.readdirSync(tmpdir)).toEqual([]);
  });
});

describe('partd shuffle and get', () => {
  it('writes each record exactly once, one NDJSON file per partition, and keeps --store for get', async () => {
    const f = files();
    const out = path.join(f.dir, 'parts');
    const store = path.join(f.dir, 'store');
    const r = await partd(['shuffle', f.csv, '--key', 'key', '--out', out, '--partitions', '4', '--store', store]);
    expect(r.code).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(['part-00000.ndjson', 'part-00001.ndjson', 'part-00002.ndjson', 'part-00003.ndjson']);
    const all = fs.readdirSync(out).flatMap((name) =>
      fs
        .readFileSync(path.join(out, name), 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { id: number; tag: string }),
    );
    expect(all.map((x) => x.id).sort((a, b) => a - b)).toEqual(records.map((x) => x.id));
    expect(all[0]!.tag).toMatch(/, really$/);
    expect(r.stderr).toMatch(/3,000 records → 4 partitions/);
    expect(r.stderr).not.toMatch(/earlier run/);
    const again = await partd(['shuffle', f.csv, '--key', 'key', '--out', out, '--partitions', '4', '--store', store]); // the job is done: nothing read again
    expect(again.stderr).toMatch(/3,000 records → 4 partitions .*, 3,000 of the records read by an earlier run on --store\n$/);
    const got = await partd(['get', store, '2']);
    expect(got.code).toBe(0);
    expect(parseLines(got.stdout).length).toBe(
      fs.readFileSync(path.join(out, 'part-00002.ndjson'), 'utf8').trim().split('\n').filter(Boolean).length,
    );
  });

  it('get reads a store and never makes one: an empty directory is an error and stays empty', async () => {
    const d = tmp();
    const r = await partd(['get', d, '0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^partd: [^\n]*holds no store[^\n]*\n$/);
    expect(fs.readdirSync(d)).toEqual([]);
  });

  it('--help shows examples; --version prints the version', async () => {
    for (const cmd of ['groupby', 'shuffle', 'get', 'bench']) {
      const r = await partd([cmd, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Examples?:/);
    }
    const v = await partd(['--version']);
    expect(v.stdout.trim()).toBe(JSON.parse(fs.readFileSync('package.json', 'utf8')).version);
  });
});

describe('stdin (-) is read as a file', () => {
  it.each(['groupby', 'shuffle'])('%s - --store DIR is refused: stdin cannot be resumed', async (command) => {
    const dir = tmp();
    const store = path.join(dir, 'store');
    const r = await partd(
      [
        command,
        '-',
        '--format',
        'ndjson',
        '--key',
        'key',
        '--store',
        store,
        ...(command === 'shuffle' ? ['--out', path.join(dir, 'parts')] : []),
      ],
      { input: '{"key":"a"}\n' },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'partd: --store: stdin (-) cannot be resumed, a re-run cannot know it is the same input; save it to a file and give that, or drop --store\n',
    );
    expect(fs.existsSync(store)).toBe(false);
    expect(fs.existsSync(path.join(dir, 'parts'))).toBe(false);
  });

  it('CSV on stdin gives what the same file gives: typed columns (007 stays "007"), not values cast one by one', async () => {
    const rows = [
      ['007', 'a', '1'],
      ['7', 'a', '2'],
      ['1e3', 'b', '3'],
      ['1000', 'b', '4'],
      ['007', 'c', '5'],
    ];
    const text = 'id,key,amount\n' + rows.map((r) => r.join(',')).join('\n') + '\n';
    const f = files();
    const file = path.join(f.dir, 'ids.csv');
    fs.writeFileSync(file, text);
    // the key column is read as text (docs/types.md), so every distinct text is a group
    const expected = [...new Set(rows.map((r) => r[0]!))].map((id) => ({
      key: id,
      count: rows.filter((r) => r[0] === id).length,
      sum_amount: rows.filter((r) => r[0] === id).reduce((n, r) => n + Number(r[2]), 0),
    }));
    const { tmpdir, env } = tmpdirRun();
    const fromStdin = await partd(['groupby', '-', '--format', 'csv', '--key', 'id', '--count', '--sum', 'amount'], { input: text, env });
    expect(fromStdin.code).toBe(0);
    expect(byKey(parseLines(fromStdin.stdout))).toEqual(byKey(expected));
    const fromFile = await partd(['groupby', file, '--key', 'id', '--count', '--sum', 'amount']);
    expect(byKey(parseLines(fromStdin.stdout))).toEqual(byKey(parseLines(fromFile.stdout)));
    expect(fromStdin.stderr).toMatch(/^partd: 5 records → 4 groups in [\d.]+ s \([\d,]+ records\/s, \d+ MB\/s\)/); // read as a file: its bytes are counted
    expect(fs.readdirSync(tmpdir)).toEqual([]); // the copy of stdin is gone
  });

  it.each([
    ['ndjson', '{"key":"a"}\n{"key":"b"}\n\n{"amount":1}\n{"key":"c"}\n', /^partd: <stdin> line 4: record has no usable key/],
    ['ndjson', '{"key":"a"}\n{"key":"b"}\n{"key":"c"}\n{"key":"d"}\n{broken\n', /^partd: <stdin> line 5: not JSON: /],
    ['csv', 'key,amount\na,1\nb\nc,3\n', /^partd: <stdin> line 3: [^\n]+\n$/],
  ])('a bad %s record on stdin is named <stdin> and its line; the temporary copy is removed', async (format, input, message) => {
    const { tmpdir, env } = tmpdirRun();
    const r = await partd(['groupby', '-', '--format', format, '--key', 'key'], { input, env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(fs.readdirSync(tmpdir)).toEqual([]);
    const verbose = await partd(['groupby', '-', '--format', format, '--key', 'key', '--verbose'], { input, env });
    expect(verbose.stderr).toMatch(/<stdin> line \d+[\s\S]*\n\s+at /);
    expect(verbose.stderr).not.toMatch(/partd-stdin-/); // the copy's path appears nowhere, stack included
    const skip = await partd(['groupby', '-', '--format', format, '--key', 'key', '--on-bad-record', 'skip'], { input, env });
    expect(skip.code).toBe(0);
    expect(skip.stderr).toMatch(/, 1 bad record skipped\n$/);
  });

  it('shuffle - writes the records of stdin, one file per partition', async () => {
    const dir = tmp();
    const out = path.join(dir, 'parts');
    const { tmpdir, env } = tmpdirRun();
    const r = await partd(['shuffle', '-', '--format', 'ndjson', '--key', 'key', '--out', out, '--partitions', '3'], {
      input: ndjsonOf(records),
      env,
    });
    expect(r.code).toBe(0);
    const all = fs.readdirSync(out).flatMap((name) => parseLines(fs.readFileSync(path.join(out, name), 'utf8')));
    expect(all.sort((a, b) => Number(a.id) - Number(b.id))).toEqual(records);
    expect(fs.readdirSync(tmpdir)).toEqual([]);
  });
});

describe('--out', () => {
  it('groupby --out into a missing directory: one line before any work, exit 1', async () => {
    const f = files();
    const { tmpdir, env } = tmpdirRun();
    const missing = path.join(f.dir, 'x', 'y');
    const r = await partd(['groupby', f.ndjson, '--key', 'key', '--out', path.join(missing, 'groups.ndjson')], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`partd: --out: directory ${JSON.stringify(missing)} does not exist\n`);
    expect(fs.readdirSync(tmpdir)).toEqual([]); // no store was made
    const dir = await partd(['groupby', f.ndjson, '--key', 'key', '--out', f.dir]);
    expect(dir.code).toBe(1);
    expect(dir.stderr).toBe(`partd: --out: ${JSON.stringify(f.dir)} is a directory; give a file\n`);
  });

  it('shuffle --out a path that is a file: one line, the file untouched; a missing DIR is made', async () => {
    const f = files();
    const r = await partd(['shuffle', f.ndjson, '--key', 'key', '--out', f.csv]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`partd: --out: ${JSON.stringify(f.csv)} is a file, not a directory\n`);
    const under = await partd(['shuffle', f.ndjson, '--key', 'key', '--out', path.join(f.csv, 'parts')]);
    expect(under.code).toBe(1);
    expect(under.stderr).toMatch(/^partd: --out: cannot make directory .*: ENOTDIR[^\n]*\n$/);
    expect(fs.readFileSync(f.csv, 'utf8')).toMatch(/^id,key,amount,tag\n/);
    const made = path.join(f.dir, 'a', 'b');
    const ok = await partd(['shuffle', f.ndjson, '--key', 'key', '--out', made, '--partitions', '2']);
    expect(ok.code).toBe(0);
    expect(fs.readdirSync(made).sort()).toEqual(['part-00000.ndjson', 'part-00001.ndjson']);
  });
});

describe('a closed stdout', () => {
  it.each(['a file', 'stdin'])(
    'groupby of %s | head -1: the job stops, exit 0, nothing on stderr, no temporary directory left',
    async (source) => {
      const dir = tmp();
      const input = path.join(dir, 'many.ndjson');
      // 100,000 groups of some 25 bytes: far more than a pipe holds, so partd is still writing
      fs.writeFileSync(input, ndjsonOf(Array.from({ length: 100_000 }, (_, i) => ({ key: `k${i}` }))));
      const { tmpdir, env } = tmpdirRun();
      const args = source === 'stdin' ? ['groupby', '-', '--format', 'ndjson'] : ['groupby', input];
      const child = spawn(process.execPath, [cli, ...args, '--key', 'key', '--partitions', '4'], {
        env: { ...process.env, NODE_OPTIONS: '', ...env },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d));
      if (source === 'stdin') fs.createReadStream(input).pipe(child.stdin);
      else child.stdin.end();
      const closed = once(child, 'close');
      const first = await new Promise<string>((resolve) => {
        let text = '';
        const onData = (d: Buffer) => {
          text += d;
          if (!text.includes('\n')) return;
          child.stdout.off('data', onData);
          child.stdout.destroy(); // what head does after its line
          resolve(text.slice(0, text.indexOf('\n')));
        };
        child.stdout.on('data', onData);
      });
      const [code, signal] = await closed;
      expect(JSON.parse(first)).toEqual({ key: expect.stringMatching(/^k\d+$/), count: 1 });
      expect({ code, signal, stderr }).toEqual({ code: 0, signal: null, stderr: '' });
      expect(fs.readdirSync(tmpdir)).toEqual([]);
    },
  );
});

describe('the summary line', () => {
  it('says 1 record, 1 group, 1 partition, 1 bad record skipped', async () => {
    const dir = tmp();
    const input = path.join(dir, 'one.ndjson');
    fs.writeFileSync(input, '{"key":"a"}\n{broken\n');
    const g = await partd(['groupby', input, '--key', 'key', '--on-bad-record', 'skip']);
    expect(g.stderr).toMatch(/^partd: 1 record → 1 group in [\d.]+ s \(.*\), peak memory \d+ MiB, 1 bad record skipped\n$/);
    const s = await partd([
      'shuffle',
      input,
      '--key',
      'key',
      '--on-bad-record',
      'skip',
      '--partitions',
      '1',
      '--out',
      path.join(dir, 'parts'),
    ]);
    expect(s.stderr).toMatch(/^partd: 1 record → 1 partition in [\d.]+ s \(.*\), peak memory \d+ MiB, 1 bad record skipped\n$/);
  });

  it('counts in records/s only the records this run read, not those an earlier run on --store committed', async () => {
    const f = files();
    const store = path.join(f.dir, 'store');
    const first = await partd(['groupby', f.ndjson, '--key', 'key', '--store', store]);
    expect(first.stderr).toMatch(/^partd: 3,000 records → 7 groups in [\d.]+ s \([1-9][\d,]* records\/s, \d+ MB\/s\)/);
    const again = await partd(['groupby', f.ndjson, '--key', 'key', '--store', store]); // done: nothing read again
    expect(again.code).toBe(0);
    expect(byKey(parseLines(again.stdout))).toEqual(byKey(parseLines(first.stdout)));
    expect(again.stderr).toMatch(
      /^partd: 3,000 records → 7 groups in [\d.]+ s \(0 records\/s\), peak memory \d+ MiB, 3,000 of the records read by an earlier run on --store\n$/,
    );
  });
});

describe('--types', () => {
  it.each([
    [['--types', 'amount:int'], 'partd: --types: a type is string or number, got "int" for "amount"\n'],
    [['--types', 'amount'], 'partd: --types: expected FIELD:string or FIELD:number (comma-separated), got "amount"\n'],
    [['--types', 'amount:number,,id:string'], 'partd: --types: expected FIELD:string or FIELD:number (comma-separated), got ""\n'],
    [['--types', ':number'], 'partd: --types: expected FIELD:string or FIELD:number (comma-separated), got ":number"\n'],
    [['--types', 'amount:number', '--types', 'amount:string'], 'partd: --types: "amount" is declared both number and string\n'],
  ])('%j is bad usage, exit 2, naming --types', async (types, message) => {
    const f = files();
    for (const command of ['groupby', 'shuffle']) {
      const r = await partd([
        command,
        f.csv,
        '--key',
        'key',
        ...types,
        ...(command === 'shuffle' ? ['--out', path.join(f.dir, 'parts')] : []),
      ]);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 2, stderr: message });
    }
  });

  // A CSV whose columns typing by a sample would read otherwise: amount's 007, +5, 2e3 are not
  // plain number text (so inferred string), id's 1, 10, 9 are (so inferred number).
  const typed = [
    ['1', 'a', '007'],
    ['10', 'a', '+5'],
    ['9', 'a', '2e3'],
    ['2', 'b', '4'],
  ];
  const typedCsv = 'id,key,amount\n' + typed.map((r) => r.join(',')).join('\n') + '\n';

  it('groupby --types amount:number --types id:string (repeated) declares the columns', async () => {
    const f = files();
    const file = path.join(f.dir, 'typed.csv');
    fs.writeFileSync(file, typedCsv);
    const expected = ['a', 'b'].map((key) => {
      const mine = typed.filter((r) => r[1] === key);
      return {
        key,
        max_amount: Math.max(...mine.map((r) => Number(r[2]))),
        max_id: mine
          .map((r) => r[0]!)
          .sort()
          .at(-1),
      };
    });
    const r = await partd([
      'groupby',
      file,
      '--key',
      'key',
      '--max',
      'amount',
      '--max',
      'id',
      '--types',
      'amount:number',
      '--types',
      'id:string',
    ]);
    expect(r.stderr).toMatch(/^partd: 4 records/);
    expect(byKey(parseLines(r.stdout))).toEqual(expected); // a: max_amount 2000, max_id "9"
  });

  it('shuffle --types amount:number,id:string writes the declared types', async () => {
    const f = files();
    const file = path.join(f.dir, 'typed.csv');
    fs.writeFileSync(file, typedCsv);
    const out = path.join(f.dir, 'parts');
    const r = await partd(['shuffle', file, '--key', 'key', '--out', out, '--partitions', '2', '--types', 'amount:number,id:string']);
    expect(r.code).toBe(0);
    const all = fs
      .readdirSync(out)
      .flatMap((name) =>
        fs.readFileSync(path.join(out, name), 'utf8').trim() ? parseLines(fs.readFileSync(path.join(out, name), 'utf8')) : [],
      );
    const sorted = all.sort((a, b) => String(a.id).localeCompare(String(b.id)));
    expect(sorted).toEqual(
      typed.map(([id, key, amount]) => ({ id, key, amount: Number(amount) })).sort((a, b) => String(a.id).localeCompare(String(b.id))),
    );
  });
});

describe('README claims: errors are one line naming the problem', () => {
  it.each([
    [
      'a directory as an input file',
      (d: string) => ['groupby', d, '--key', 'key', '--format', 'ndjson'],
      (d: string) => `partd: ${d}: not a file\n`,
      1,
    ],
    ['no command', () => [], () => /^Usage: partd /, 2],
    [
      'an unknown option',
      () => ['groupby', 'x.ndjson', '--key', 'k', '--bogus'],
      () => "partd: unknown option '--bogus' (partd groupby --help shows the options)\n",
      2,
    ],
    [
      'a missing FILE',
      () => ['groupby', '--key', 'k'],
      () => "partd: missing required argument 'FILE' (partd groupby --help shows the options)\n",
      2,
    ],
    [
      'a bad --format',
      () => ['groupby', 'x', '--key', 'k', '--format', 'xml'],
      () =>
        /^partd: option '--format <format>' argument 'xml' is invalid\. Allowed choices are ndjson, csv\. \(partd groupby --help shows the options\)\n$/,
      2,
    ],
    [
      'a missing store for get',
      (d: string) => ['get', path.join(d, 'nope'), '0'],
      (d: string) => `partd: ${path.join(d, 'nope')}: no such store\n`,
      1,
    ],
  ] as [string, (d: string) => string[], (d: string) => string | RegExp, number][])('%s', async (_, args, message, code) => {
    const d = tmp();
    const r = await partd(args(d));
    expect(r.code).toBe(code);
    const m = message(d);
    if (typeof m === 'string') expect(r.stderr).toBe(m);
    else expect(r.stderr).toMatch(m);
  });
});
