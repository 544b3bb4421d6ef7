/** `await using` a shuffle's handle closes it as `close()` does: a named store keeps its data, a temporary one is removed. */
import { expect, it } from '@jest/globals';
import fs from 'node:fs';
import path from 'node:path';
import { Lmdb, Msgpack, shuffle } from '../src/index.js';
import { fixture } from './support/child.js';
import { tempDirs } from './support/temp-dirs.js';

const tmp = tempDirs('partd-handle-');

const N = 1000;
const P = 4;
const gen = { generate: { module: fixture('shuffle-modules.mjs'), export: 'records' }, count: N };

/** Every record id found in the partitions of the store at `dir`, sorted. */
async function idsIn(dir: string): Promise<number[]> {
  const store = new Lmdb(dir, { readOnly: true });
  try {
    const codec = new Msgpack<{ id: number }>(store);
    const ids: number[] = [];
    for (let p = 0; p < P; p++) for (const r of await codec.get(p)) ids.push(r.id);
    return ids.sort((a, b) => a - b);
  } finally {
    await store.close();
  }
}

it('await using a shuffle over a named store leaves its data readable after the block', async () => {
  const dir = path.join(tmp(), 'store');
  {
    await using h = await shuffle({ input: gen, key: 'key', partitions: P, workers: 1, store: dir });
    expect(h.stats.records).toBe(N);
  }
  expect(await idsIn(dir)).toEqual(Array.from({ length: N }, (_, i) => i));
  // the job ended: the same job on the store resumes all of it, reading nothing again
  await using again = await shuffle({ input: gen, key: 'key', partitions: P, workers: 1, store: dir });
  expect(again.stats).toMatchObject({ records: N, resumed: N });
});

it('await using a shuffle over an Lmdb the caller opened leaves it open, with its data', async () => {
  const store = new Lmdb(path.join(tmp(), 'store'));
  {
    await using h = await shuffle({ input: gen, key: 'key', partitions: P, workers: 1, store });
    expect(h.store).toBe(store);
  }
  expect(store.closed).toBe(false);
  const codec = new Msgpack<{ id: number }>(store);
  let n = 0;
  for (let p = 0; p < P; p++) n += (await codec.get(p)).length;
  expect(n).toBe(N);
  await store.close();
});

it('await using a shuffle over a temporary store removes its directory after the block', async () => {
  let dir: string;
  {
    await using h = await shuffle({ input: gen, key: 'key', partitions: P, workers: 1 });
    dir = h.store.path;
    expect(fs.existsSync(dir)).toBe(true);
  }
  expect(fs.existsSync(dir)).toBe(false);
});
