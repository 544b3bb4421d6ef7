/**
 * A closed pool stays closed: a thread Piscina was terminating when the job closed its pool
 * (an aborted task's, blocked in a system call) exits after Piscina's destroy() returned, and
 * Piscina then "replaced" it — new threads in a pool nobody closes again (CI: a storm of
 * threads after the suite, and jest never exited).
 */
import { expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const index = path.resolve(here, '..', 'dist', 'src', 'index.js');
const records = path.resolve(here, 'fixtures', 'blocking-records.mjs');

it('an aborted job leaves no thread behind, even one that exits after the pool was closed', () => {
  const script = `
    import fs from 'node:fs';
    const partd = await import(${JSON.stringify(index)});
    const threads = () => new Set(fs.readdirSync('/proc/self/task'));
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    const before = threads().size;
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 1500);
    const input = { generate: { module: ${JSON.stringify(records)}, export: 'range' }, count: 20000 };
    const outcome = await partd
      .groupBy({ input, splits: 4, key: 'key', partitions: 4, workers: 2, aggregate: { n: { op: 'count' } }, signal: controller.signal })
      .then(() => 'resolved', (e) => e.name);
    await sleep(1500); // the blocked threads' calls return, and they exit
    const after = threads();
    await sleep(3000);
    const later = threads();
    console.log(JSON.stringify({ outcome, extra: after.size - before, started: [...later].filter((t) => !after.has(t)).length, extraLater: later.size - before }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  expect({ signal: r.signal, status: r.status, stderr: r.stderr }).toEqual({ signal: null, status: 0, stderr: '' });
  expect(JSON.parse(r.stdout.trim())).toEqual({ outcome: 'AbortError', extra: 0, started: 0, extraLater: 0 });
}, 60_000);
