/** The built CLI, spawned as a user runs it. */
import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const cli = path.resolve('dist/src/cli/main.js');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'partd-cli-'));

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI; `during` may act on the running child (write stdin, send a signal). */
function partd(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; during?: (child: ReturnType<typeof spawn>) => void } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, NODE_OPTIONS: '', ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    if (opts.during) opts.during(child);
    else child.stdin.end(opts.input ?? '');
  });
}

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
const parseLines = (text: string) => text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
const byKey = (rows: Record<string, unknown>[]) => rows.sort((a, b) => String(a.key).localeCompare(String(b.key)));

function files() {
  const dir = tmp();
  const ndjson = path.join(dir, 'in.ndjson');
  fs.writeFileSync(ndjson, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const csv = path.join(dir, 'in.csv');
  fs.writeFileSync(csv, 'id,key,amount,tag\n' + records.map((r) => `${r.id},${r.key},${r.amount},"${r.tag}, really"`).join('\n') + '\n');
  return { dir, ndjson, csv };
}

describe('partd groupby', () => {
  it.each(['ndjson', 'csv'] as const)('groups a %s file into NDJSON lines on stdout, with a summary line and no bar off a terminal', async (kind) => {
    const f = files();
    const r = await partd(['groupby', f[kind], '--key', 'key', '--count', '--sum', 'amount', '--max', 'amount', '--partitions', '3', '--workers', '2']);
    expect(r.code).toBe(0);
    expect(byKey(parseLines(r.stdout))).toEqual(reference());
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^partd: 3,000 records → 7 groups in [\d.]+ s \([\d,]+ records\/s, \d+ MB\/s\), peak memory \d+ MiB\n$/);
    expect(r.stderr).not.toMatch(/[█░]/);
  });

  it('reads stdin with --format and writes --out FILE', async () => {
    const f = files();
    const out = path.join(f.dir, 'groups.ndjson');
    const r = await partd(['groupby', '-', '--format', 'ndjson', '--key', 'key', '--out', out, '--quiet'], { input: fs.readFileSync(f.ndjson, 'utf8') });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(byKey(parseLines(fs.readFileSync(out, 'utf8')))).toEqual(reference().map(({ key, count }) => ({ key, count })));
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
    expect(byKey(parseLines(skip.stdout))).toEqual([{ key: 'a', count: 1 }, { key: 'b', count: 1 }]);
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
          if (fs.readdirSync(tmpdir).some((d) => d.startsWith('partd-lmdb-'))) {
            clearInterval(poll);
            child.kill('SIGINT');
          }
        }, 20);
      },
    });
    expect(r.code).toBe(130);
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
    const all = fs.readdirSync(out).flatMap((name) => fs.readFileSync(path.join(out, name), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id: number; tag: string }));
    expect(all.map((x) => x.id).sort((a, b) => a - b)).toEqual(records.map((x) => x.id));
    expect(all[0]!.tag).toMatch(/, really$/);
    expect(r.stderr).toMatch(/3,000 records → 4 partitions/);
    expect(r.stderr).not.toMatch(/earlier run/);
    const again = await partd(['shuffle', f.csv, '--key', 'key', '--out', out, '--partitions', '4', '--store', store]); // the job is done: nothing read again
    expect(again.stderr).toMatch(/3,000 records → 4 partitions .*, 3,000 of the records read by an earlier run on --store\n$/);
    const got = await partd(['get', store, '2']);
    expect(got.code).toBe(0);
    expect(parseLines(got.stdout).length).toBe(fs.readFileSync(path.join(out, 'part-00002.ndjson'), 'utf8').trim().split('\n').filter(Boolean).length);
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
