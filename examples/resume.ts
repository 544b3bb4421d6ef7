/**
 * Exactly-once across a crash: a `groupBy` on a kept store (`store: dir`) is killed with
 * SIGKILL halfway, then run again on that store: it resumes after the parts already
 * committed, and every record is still counted once. The `spread` aggregation is a custom
 * reducer (this module's `spread`: the smallest and largest amount of a key). It has no
 * `merge`, so the records themselves cross the store, committed in parts each time a worker's
 * share of `memory` fills.
 * Run: `npm run build && node dist/examples/resume.js`.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread } from 'node:worker_threads';
import { groupBy } from '../src/index.js';

const COUNT = 3_000_000;

/** Order i: customer i % 1000, amount 1..997. */
export const order = (i: number) => ({ id: i, customer: `c${i % 1000}`, amount: ((i * 7919) % 997) + 1 });

/** A custom reducer: a new state, a value added to it, the result (`merge` would let workers combine first). */
export const spread = {
  init: (): [number, number] => [Infinity, -Infinity],
  add: ([lo, hi]: [number, number], amount: number): [number, number] => [Math.min(lo, amount), Math.max(hi, amount)],
  finish: ([lo, hi]: [number, number]) => `${lo}..${hi}`,
};

const child = isMainThread && process.argv[2] === 'child';

/** The job: the same options every time, so a second run on the store resumes the first. */
const run = (store: string) =>
  groupBy({
    input: { make: { module: import.meta.url, export: 'order' }, count: COUNT },
    key: 'customer',
    partitions: 16,
    workers: 2,
    splits: 30,
    memory: 16 << 20,
    store,
    aggregate: {
      orders: { op: 'count' },
      spread: { op: 'custom', field: 'amount', reducer: { module: import.meta.url, export: 'spread' } },
    },
    progress: (p) => {
      if (child && p.phase === 'scatter' && p.splitsDone === 15) console.log('15 of 30 splits read'); // the parent kills it here
    },
  });

if (child) {
  await run(process.argv[3]!);
} else if (isMainThread) {
  const store = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'partd-resume-')), 'store');
  // 1. Run the job in a child process and kill it halfway.
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'child', store], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('15 of 30 splits read') && child.kill('SIGKILL'));
    child.on('exit', () => resolve());
  });
  console.log(`first run killed: ${child.signalCode}`);
  // 2. The same job on the same store: what was committed is not read again.
  const groups = await run(store);
  const total = [...groups.values()].reduce((n, row) => n + (row.orders as number), 0);
  const { records, resumed } = groups.stats!;
  console.log(
    `second run: ${resumed > 0 && resumed < COUNT ? 'resumed' : 'NOT resumed'}: ${resumed} records committed by the first run, ${records - resumed} read now`,
  );
  console.log(`${groups.size} customers, ${total} orders counted`);
  console.log(`c7: ${groups.get('c7')!.orders} orders, amounts ${groups.get('c7')!.spread}`);
  fs.rmSync(path.dirname(store), { recursive: true });
}
