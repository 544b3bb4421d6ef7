/** `partd join`, spawned as a user runs it: NDJSON rows equal to the nested loop, the summary line, exit statuses. */
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { cli, partd } from './support/cli.js';
import { canonical, nestedLoopJoin } from './support/join-reference.js';
import { tempDirs } from './support/temp-dirs.js';

const tmp = tempDirs('partd-join-cli-');
type Order = { order: number; user?: number | null; amount: number };
type User = { id: number; name: string };

/** Orders (NDJSON; some without a user, some with null) and users (CSV) in a fresh directory. */
function files(n = 3000) {
  const dir = tmp();
  const orders: Order[] = Array.from({ length: n }, (_, i) =>
    i % 11 === 0 ? { order: i, amount: i % 9 } : { order: i, user: i % 13 === 0 ? null : i % 400, amount: i % 9 },
  );
  const users: User[] = Array.from({ length: 300 }, (_, i) => ({ id: i + 200, name: i % 2 ? `Smith, ${i}` : `"Q" ${i}` }));
  const left = path.join(dir, 'orders.ndjson');
  const right = path.join(dir, 'users.csv');
  fs.writeFileSync(left, orders.map((o) => JSON.stringify(o)).join('\n') + '\n');
  const quote = (s: string) => `"${s.replaceAll('"', '""')}"`;
  fs.writeFileSync(right, 'id,name\n' + users.map((u) => `${u.id},${quote(u.name)}`).join('\n') + '\n');
  const want = (how: 'inner' | 'left' | 'right' | 'outer') =>
    canonical(
      nestedLoopJoin(
        orders,
        users,
        (o: Order) => o.user,
        (u: User) => u.id,
        how,
      ),
    );
  return { dir, left, right, want, orders, users };
}
const rows = (stdout: string) =>
  canonical(
    stdout
      .trimEnd()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as unknown),
  );
const SUMMARY = /^partd: 3,300 records → ([\d,]+) rows in [\d.]+ s \([\d,]+ records\/s, \d+ MB\/s\), peak memory \d+ MiB\n$/;

describe('partd join', () => {
  it.each(['inner', 'left', 'right', 'outer'] as const)('--how %s: NDJSON rows on stdout, one summary line on stderr', async (how) => {
    const { dir, left, right, want } = files();
    const r = await partd([
      'join',
      left,
      right,
      '--on',
      'user',
      '--right-on',
      'id',
      '--types',
      'id:number',
      '--how',
      how,
      '--workers',
      '2',
    ]);
    expect(r.code).toBe(0);
    expect(rows(r.stdout)).toEqual(want(how));
    expect(r.stderr).toMatch(SUMMARY);
    expect(Number(SUMMARY.exec(r.stderr)![1]!.replaceAll(',', ''))).toBe(want(how).length);
    fs.rmSync(dir, { recursive: true });
  });

  it('--out FILE, stdin as one side, and a kept --store resumed by a second run', async () => {
    const { dir, left, right, want } = files();
    const out = path.join(dir, 'joined.ndjson');
    const args = ['--on', 'user', '--right-on', 'id', '--types', 'id:number', '--how', 'left', '--partitions', '8'];
    const toFile = await partd(['join', left, right, ...args, '--out', out]);
    expect([toFile.code, toFile.stdout]).toEqual([0, '']);
    expect(rows(fs.readFileSync(out, 'utf8'))).toEqual(want('left'));
    const fromStdin = await partd(['join', '-', right, ...args, '--format', 'ndjson'], { input: fs.readFileSync(left, 'utf8') });
    expect(fromStdin.code).toBe(0);
    expect(rows(fromStdin.stdout)).toEqual(want('left'));
    const store = path.join(dir, 'kept');
    const first = await partd(['join', left, right, ...args, '--store', store, '--no-broadcast']); // both inputs kept in the store
    const again = await partd(['join', left, right, ...args, '--store', store, '--how', 'outer']);
    expect([first.code, again.code]).toEqual([0, 0]);
    expect(rows(again.stdout)).toEqual(want('outer'));
    expect(again.stderr).toMatch(/3,300 records → [\d,]+ rows .*, 3,300 of the records read by an earlier run on --store\n$/);
    fs.rmSync(dir, { recursive: true });
  });

  it('a reader that closes stdout early: exit 0', () => {
    const { dir, left, right } = files(30_000);
    const r = spawnSync('sh', ['-c', `node ${cli} join ${left} ${right} --on user --right-on id --types id:number --how outer | head -1`], {
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean)).toHaveLength(1);
    expect(r.stderr).toBe('');
    fs.rmSync(dir, { recursive: true });
  });

  it.each([
    ['an unknown --how', 2, ['--on', 'user', '--how', 'sideways'], /^partd: option '--how <how>' argument 'sideways' is invalid/],
    ['no --on', 2, [], /^partd: required option '--on <field>' not specified \(partd join --help shows the options\)$/],
    ['an empty --on', 2, ['--on', ''], /^partd: --on: expected a field name, got ""$/],
    [
      '--on missing from the CSV header',
      2,
      ['--on', 'user'],
      /^partd: --on: column "user" is not in the header of .*users\.csv \(its columns: id, name\)$/,
    ],
    [
      '--right-on missing from the CSV header',
      2,
      ['--on', 'user', '--right-on', 'uid'],
      /^partd: --right-on: column "uid" is not in the header/,
    ],
  ] as [string, number, string[], RegExp][])('%s: exit %i', async (_, code, args, message) => {
    const { dir, left, right } = files(10);
    const r = await partd(['join', left, right, ...args]);
    expect(r.code).toBe(code);
    expect(r.stderr.trimEnd()).toMatch(message);
    fs.rmSync(dir, { recursive: true });
  });

  it('stdin for both sides, a missing file, a bad record: exit 2, 1, 1; --on-bad-record skip counts it', async () => {
    const { dir, left, right } = files(10);
    const both = await partd(['join', '-', '-', '--on', 'user', '--format', 'ndjson']);
    expect([both.code, both.stderr]).toEqual([2, 'partd: LEFT, RIGHT: only one of them can be - (stdin)\n']);
    const missing = await partd(['join', left, path.join(dir, 'nope.csv'), '--on', 'user']);
    expect([missing.code, missing.stderr]).toEqual([1, `partd: ${path.join(dir, 'nope.csv')}: no such file\n`]);
    fs.appendFileSync(left, '{"order": oops}\n');
    const bad = await partd(['join', left, right, '--on', 'user', '--right-on', 'id']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(new RegExp(`^partd: ${left} line 11: not JSON`));
    const skipped = await partd(['join', left, right, '--on', 'user', '--right-on', 'id', '--on-bad-record', 'skip']);
    expect(skipped.code).toBe(0);
    expect(skipped.stderr).toMatch(/^partd: 310 records → \d+ rows? in .*, 1 bad record skipped\n$/);
    fs.rmSync(dir, { recursive: true });
  });
});
