/** Several worker threads and several processes append to one Lmdb path and one File directory at once. */
import { describe, expect, it } from '@jest/globals';
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { File, Lmdb, type Partd } from '../src/index.js';
import { fixture, runNode } from './support/child.js';
import { parseRecords as parse } from './support/records.js';
import { tempDirs } from './support/temp-dirs.js';

const tmp = tempDirs('partd-conc-');

async function verify(store: Partd, writers: number, count: number): Promise<void> {
  const shared = parse(await store.get('shared'));
  expect(shared).toHaveLength(writers * count);
  for (let w = 0; w < writers; w++) {
    const mine = shared.filter(([x]) => x === w).map(([, i]) => i);
    expect(mine).toEqual(Array.from({ length: count }, (_, i) => i)); // once each, in the writer's order
    expect(parse(await store.get(`own${w}`)).map(([, i]) => i)).toEqual(mine);
  }
  const byMod = (await store.get(Array.from({ length: 10 }, (_, m) => String(m)))).flatMap(parse);
  expect(byMod).toHaveLength(writers * count);
}

/** Writers of lmdb-files append fillers and delete them by turns: sparse files were compacted. */
async function expectCompacted(store: Lmdb, writers: number, count: number): Promise<void> {
  const keys = ['shared', ...Array.from({ length: writers }, (_, w) => `own${w}`), ...Array.from({ length: 10 }, (_, m) => String(m))];
  const live = (await store.get(keys)).reduce((n, v) => n + v.length, 0);
  const fillers = writers * Math.ceil(count / 2) * 60_000;
  const dir = path.join(store.path, 'values');
  const held = fs.readdirSync(dir).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
  expect(held).toBeGreaterThanOrEqual(live);
  expect(held).toBeLessThan(live + fillers); // without compaction, every filler byte would still be there
}

const kinds = [
  ['lmdb', (d: string) => new Lmdb(d)],
  ['lmdb-files', (d: string) => new Lmdb(d, { valueFiles: 4096, valueFileMax: 64 << 10 })], // values in value files, a new one every 64 KiB
  ['file', (d: string) => new File(d)],
  // noSync: values written ahead in the threadpool. Threads only: a noSync store is written by one process (LmdbOptions.noSync).
  ['lmdb-ahead', (d: string) => new Lmdb(d, { noSync: true, valueFiles: 4096, valueFileMax: 64 << 10 })],
] as const;
const inFiles = (kind: string) => kind === 'lmdb-files' || kind === 'lmdb-ahead';
const WRITERS = 4;
const COUNT = 150;

describe.each(kinds)('concurrent appends to one %s store', (kind, open) => {
  it('from worker threads', async () => {
    const dir = path.join(tmp(), 'store');
    await open(dir).close();
    await Promise.all(
      Array.from(
        { length: WRITERS },
        (_, w) =>
          new Promise((resolve, reject) => {
            const worker = new Worker(fixture('appender.mjs'), { workerData: [kind, dir, w, COUNT] });
            worker.on('message', resolve);
            worker.on('error', reject);
          }),
      ),
    );
    const store = open(dir);
    await verify(store, WRITERS, COUNT);
    if (store instanceof Lmdb && inFiles(kind)) await expectCompacted(store, WRITERS, COUNT);
    await store.close();
  });
});

// A noSync store is written by one process (LmdbOptions.noSync): lmdb-ahead runs in threads only.
describe.each(kinds.filter(([kind]) => kind !== 'lmdb-ahead'))('concurrent appends to one %s store', (kind, open) => {
  it('from child processes', async () => {
    const dir = path.join(tmp(), 'store');
    await open(dir).close();
    const results = await Promise.all(
      Array.from({ length: WRITERS }, (_, w) => runNode(fixture('appender.mjs'), [kind, dir, String(w), String(COUNT)])),
    );
    for (const r of results)
      expect({ out: r.stderr + r.stdout.trim(), code: r.code, signal: r.signal }).toEqual({ out: 'done', code: 0, signal: null });
    const store = open(dir);
    await verify(store, WRITERS, COUNT);
    if (store instanceof Lmdb && inFiles(kind)) await expectCompacted(store, WRITERS, COUNT);
    await store.close();
  });
});
