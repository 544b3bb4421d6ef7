/** `partd sort`, spawned as a user runs it: NDJSON lines in key order, the summary line, exit statuses. */
import { describe, expect, it } from '@jest/globals';
import fs from 'node:fs';
import path from 'node:path';
import { runNode } from './support/child.js';
import { tempDirs } from './support/temp-dirs.js';

const cli = path.resolve('dist/src/cli/main.js');
const partd = (args: string[], input?: string) => runNode(cli, args, undefined, input);
const tmp = tempDirs('partd-sort-cli-');

// amounts 0..12 as numbers: numeric order differs from text order ("10" < "9")
const records = Array.from({ length: 3000 }, (_, i) => ({ id: i, user: `u${(i * 7) % 11}`, amount: (i * 5) % 13 }));
/** Stable: ties in input order. */
const byAmount = (desc: boolean) => records.slice().sort((a, b) => (desc ? b.amount - a.amount : a.amount - b.amount));
const lines = (text: string) => text.trim().split('\n');

function files() {
  const dir = tmp();
  const ndjson = path.join(dir, 'in.ndjson');
  fs.writeFileSync(ndjson, records.map((r) => JSON.stringify(r) + '\n').join(''));
  const csv = path.join(dir, 'in.csv');
  fs.writeFileSync(csv, 'id,user,amount\n' + records.map((r) => `${r.id},${r.user},${r.amount}\n`).join(''));
  return { dir, ndjson, csv };
}

describe('partd sort', () => {
  it('sorts an NDJSON file to stdout, with the summary line on stderr', async () => {
    const r = await partd(['sort', files().ndjson, '--key', 'amount', '--partitions', '7', '--workers', '2']);
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual(byAmount(false).map((x) => JSON.stringify(x)));
    expect(r.stderr).toMatch(
      /^partd: 3,000 records → 3,000 sorted lines in \d+\.\d s \([\d,]+ records\/s, \d+ MB\/s\), peak memory \d+ MiB\n$/,
    );
  });

  it('a CSV column of numbers sorts as numbers (inferred), --desc, --out FILE; the other columns inferred too', async () => {
    const f = files();
    const out = path.join(f.dir, 'sorted.ndjson');
    const r = await partd(['sort', f.csv, '--key', 'amount', '--desc', '--out', out, '--partitions', '4']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(lines(fs.readFileSync(out, 'utf8'))).toEqual(byAmount(true).map((x) => JSON.stringify(x)));
  });

  it('a column declared a string sorts as text', async () => {
    const r = await partd(['sort', files().csv, '--key', 'amount', '--types', 'amount:string', '--partitions', '3']);
    expect(r.code).toBe(0);
    const got = lines(r.stdout).map((l) => (JSON.parse(l) as { amount: string }).amount);
    expect(got).toEqual(records.map((x) => String(x.amount)).sort()); // ASCII: code point order is JavaScript's
  });

  it('reads stdin (-) with --format', async () => {
    const text = records.map((x) => JSON.stringify(x)).join('\n');
    const r = await partd(['sort', '-', '--format', 'ndjson', '--key', 'user', '--partitions', '5'], text);
    expect(r.code).toBe(0);
    const want = records.slice().sort((a, b) => (a.user < b.user ? -1 : a.user > b.user ? 1 : 0));
    expect(lines(r.stdout)).toEqual(want.map((x) => JSON.stringify(x)));
  });

  it('a bad key is exit 1 naming file and line; --on-bad-record skip counts it in the summary', async () => {
    const f = files();
    const bad = path.join(f.dir, 'bad.ndjson');
    fs.writeFileSync(bad, '{"id":0,"amount":2}\n{"id":1,"amount":[]}\n{"id":2,"amount":1}\n');
    const r = await partd(['sort', bad, '--key', 'amount']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `partd: ${bad} line 2: key field "amount": an empty array is not a sort key (a tuple needs at least one element)\n`,
    );
    const skip = await partd(['sort', bad, '--key', 'amount', '--on-bad-record', 'skip']);
    expect(skip.code).toBe(0);
    expect(lines(skip.stdout)).toEqual(['{"id":2,"amount":1}', '{"id":0,"amount":2}']);
    expect(skip.stderr).toMatch(/^partd: 2 records → 2 sorted lines in .*, 1 bad record skipped\n$/);
  });

  it('bad usage is exit 2', async () => {
    const r = await partd(['sort', files().ndjson]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("partd: required option '--key <field>' not specified (partd sort --help shows the options)\n");
    const p = await partd(['sort', files().ndjson, '--key', 'amount', '--partitions', '0']);
    expect(p.code).toBe(2);
    expect(p.stderr).toBe('partd: --partitions: expected a positive integer, got "0"\n');
  });
});
