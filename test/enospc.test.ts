/** A full disk: a clear ENOSPC error, a store that stays readable, temporary data removed. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { File, Lmdb, type Partd } from '../src/index.js';
import { fixture } from './support/child.js';

// A 6 MiB tmpfs (this machine kind runs tests as root, so it can mount one).
const mount = fs.mkdtempSync(path.join(os.tmpdir(), 'partd-full-'));
beforeAll(() => void execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=6m', 'tmpfs', mount]));
afterAll(() => void execFileSync('umount', [mount]));

async function fill(store: Partd): Promise<{ error: NodeJS.ErrnoException; appended: number }> {
  for (let i = 0; i < 1000; i++) {
    try {
      await store.append({ [`k${i % 3}`]: Buffer.alloc(100_000, i % 251) });
    } catch (e) {
      return { error: e as NodeJS.ErrnoException, appended: i };
    }
  }
  throw new Error('the disk never filled');
}

describe.each([
  ['Lmdb', (d: string) => new Lmdb(d)],
  ['File', (d: string) => new File(d)],
] as [string, (d: string) => Partd][])('%s on a full disk', (_, open) => {
  it('fails with ENOSPC named and stays readable with every completed append intact', async () => {
    const dir = path.join(mount, _.toLowerCase());
    const store = open(dir);
    const { error, appended } = await fill(store);
    expect(error.code).toBe('ENOSPC');
    expect(error.message).toMatch(/ENOSPC/);
    const values = await store.get(['k0', 'k1', 'k2']);
    const total = values.reduce((n, v) => n + v.length, 0);
    expect(total).toBe(appended * 100_000); // the failed call left nothing behind
    values.forEach((v, k) => {
      for (let off = 0; off < v.length; off += 100_000) expect(v[off]).toBe(v[off + 99_999]); // whole values only
      void k;
    });
    await store.close();
    fs.rmSync(dir, { recursive: true }); // frees the disk for the next case
  });
});

it.each([
  ['File', (d: string) => new File(d)],
  ['Lmdb', (d: string) => new Lmdb(d, { noSync: true })], // its values written in the threadpool, over two value files
  ['Lmdb (synced)', (d: string) => new Lmdb(d)], // written inside the transaction
] as [string, (d: string) => Partd][])('%s: a call whose large values are written several at once fails whole', async (name, open) => {
  const dir = path.join(mount, `several-${name.replace(/\W/g, '')}`);
  const store = open(dir);
  let appended = 0;
  const error = await (async () => {
    for (; appended < 100; appended++) {
      try {
        await store.append({ k0: Buffer.alloc(300_000, 1), k1: Buffer.alloc(450_000, 2), k2: Buffer.alloc(600_000, 3) });
      } catch (e) {
        return e as NodeJS.ErrnoException;
      }
    }
    throw new Error('the disk never filled');
  })();
  expect(error.code).toBe('ENOSPC');
  const values = await store.get(['k0', 'k1', 'k2']);
  expect(values.map((v) => v.length)).toEqual([300_000, 450_000, 600_000].map((n) => n * appended));
  values.forEach((v, k) => expect(v.every((byte) => byte === k + 1)).toBe(true));
  await store.append({ k3: Buffer.alloc(10, 4) }); // still writable
  expect((await store.get('k3')).length).toBe(10);
  await store.close();
  fs.rmSync(dir, { recursive: true });
});

it('Lmdb: a delete on a full disk succeeds; a value-file compaction that finds no room is left for later', async () => {
  const dir = path.join(mount, 'compact');
  const store = new Lmdb(dir, { valueFiles: 1, valueFileMax: 1 << 20 }); // k0, k1, k2 share each file
  const { error, appended } = await fill(store);
  expect(error.code).toBe('ENOSPC');
  await store.delete(['k0', 'k1']); // files a third live: compacting them needs room the disk lacks
  const k2 = await store.get('k2');
  expect(k2.length).toBe(Math.floor(appended / 3) * 100_000); // calls i % 3 === 2 of those that succeeded
  for (let off = 0; off < k2.length; off += 100_000) expect(k2[off]).toBe(k2[off + 99_999]);
  await store.delete('k2');
  // Nothing live: every file retired; the writer's file, which no commit points into, holds nothing.
  const left = fs.readdirSync(path.join(dir, 'values'));
  expect(left.length).toBeLessThanOrEqual(1);
  expect(left.map((f) => fs.statSync(path.join(dir, 'values', f)).size)).toEqual(left.map(() => 0));
  await store.close();
  fs.rmSync(dir, { recursive: true });
});

it('a shuffle that fills the disk rejects with ENOSPC and removes its temporary store', async () => {
  // ~11 MB of shuffled records for a 6 MiB disk; the child's temporary store goes there ($TMPDIR)
  const r = spawnSync(process.execPath, [fixture('shuffle-child.mjs'), '400000'], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '', TMPDIR: mount } });
  const outcome = JSON.parse(r.stdout) as { ok: boolean; message: string };
  expect(outcome.ok).toBe(false);
  expect(outcome.message).toMatch(/ENOSPC: no space left on device for the Lmdb store/);
  expect(fs.readdirSync(mount).filter((d) => d.startsWith('partd-'))).toEqual([]);
});
