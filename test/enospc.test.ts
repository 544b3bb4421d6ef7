/**
 * A full disk: a clear ENOSPC error, a store that stays readable, temporary data removed. The
 * cases run on a 6 MiB tmpfs this file mounts, which needs root and mount(8) (CI runs as root):
 * without them the cases fail, saying why, unless PARTD_TEST_NO_TMPFS=1 says this environment
 * has no tmpfs; then they are skipped, and say so.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { File, Lmdb, type Partd } from '../src/index.js';
import { fixture } from './support/child.js';

const SIZE = 6 << 20;
const TMPFS_MAGIC = 0x01021994;
const NO_TMPFS = process.env.PARTD_TEST_NO_TMPFS === '1';
let mount = ''; // the tmpfs, mounted by beforeAll
let mounted = false;

/** Why this process cannot mount a tmpfs, or undefined. */
function cannotMount(): string | undefined {
  if (process.platform !== 'linux') return `this is ${process.platform}, not Linux`;
  if (process.getuid?.() !== 0) return `this process is not root (uid ${process.getuid?.()})`;
  const onPath = (cmd: string) => (process.env.PATH ?? '').split(path.delimiter).some((d) => d !== '' && fs.existsSync(path.join(d, cmd)));
  const missing = ['mount', 'umount'].filter((cmd) => !onPath(cmd));
  if (missing.length > 0) return `${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not on PATH`;
  return undefined;
}

function mountTmpfs(): void {
  const advice = 'run these tests as root where mount(8) works, or set PARTD_TEST_NO_TMPFS=1 to skip them in an environment without tmpfs';
  const why = cannotMount();
  if (why) throw new Error(`the full-disk tests need a 6 MiB tmpfs, and ${why}: ${advice}`);
  mount = fs.mkdtempSync(path.join(os.tmpdir(), 'partd-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=6m', 'tmpfs', mount], { stdio: 'pipe' });
  } catch (e) {
    throw new Error(
      `the full-disk tests need a 6 MiB tmpfs, and mount -t tmpfs failed (${String((e as { stderr?: Buffer }).stderr ?? e).trim()}): ${advice}`,
      { cause: e },
    );
  }
  mounted = true;
  const fsStats = fs.statfsSync(mount);
  if (fsStats.type !== TMPFS_MAGIC || fsStats.blocks * fsStats.bsize !== SIZE) {
    throw new Error(
      `${mount} is not the 6 MiB tmpfs mounted for these tests (type 0x${fsStats.type.toString(16)}, ${fsStats.blocks * fsStats.bsize} bytes)`,
    );
  }
}

if (NO_TMPFS) console.warn('PARTD_TEST_NO_TMPFS=1: this environment has no tmpfs; the full-disk tests (test/enospc.test.ts) are skipped');
const onTmpfs = NO_TMPFS ? describe.skip : describe;

onTmpfs('on a full disk (a 6 MiB tmpfs)', () => {
  beforeAll(mountTmpfs);
  afterAll(() => {
    if (mounted) execFileSync('umount', [mount]);
    if (mount !== '') fs.rmSync(mount, { recursive: true, force: true });
  });

  /** The bytes of the calls `fill` appended to key `k${k}`: calls k, k + 3, k + 6, … below `appended`, call i 100,000 bytes of i % 251. */
  function filled(k: number, appended: number): Buffer {
    const calls = Array.from({ length: Math.max(0, Math.ceil((appended - k) / 3)) }, (_, j) => 3 * j + k);
    return Buffer.concat(calls.map((i) => Buffer.alloc(100_000, i % 251)));
  }

  /** Asserts every byte of `value` equals `want`, naming the first byte that differs. */
  function expectBytes(value: Uint8Array, want: Buffer): void {
    const got = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    const at = got.equals(want)
      ? -1
      : Array.from({ length: Math.max(got.length, want.length) }, (_, i) => i).find((i) => got[i] !== want[i])!;
    expect({ length: got.length, firstDifference: at }).toEqual({ length: want.length, firstDifference: -1 });
  }

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
      expect(values.reduce((n, v) => n + v.length, 0)).toBe(appended * 100_000); // the failed call left nothing behind
      values.forEach((v, k) => expectBytes(v, filled(k, appended))); // every byte of every completed call, in order
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
    values.forEach((v, k) => expectBytes(v, Buffer.alloc([300_000, 450_000, 600_000][k]! * appended, k + 1)));
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
    expectBytes(await store.get('k2'), filled(2, appended)); // calls i % 3 === 2 of those that succeeded, every byte
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
    const r = spawnSync(process.execPath, [fixture('shuffle-child.mjs'), '400000'], {
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: '', TMPDIR: mount },
    });
    const outcome = JSON.parse(r.stdout) as { ok: boolean; message: string };
    expect(outcome.ok).toBe(false);
    expect(outcome.message).toMatch(/ENOSPC: no space left on device for the Lmdb store/);
    expect(fs.readdirSync(mount).filter((d) => d.startsWith('partd-'))).toEqual([]);
  });
});
