/**
 * One job at a time on a kept store (issue 15): the claim is one LMDB transaction, so of two
 * jobs started at once — in two processes or in one — exactly one runs and the other is told
 * the store is in use, and by whom; the store stays readable (no torn job record). A claim left
 * by a dead process is taken over at once; a job's end (success or failure) releases it.
 */
import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Lmdb, StoreBusyError, StoreKindError, groupBy, shuffle, tuple, type GroupRow } from '../src/index.js';
import { openJob } from '../src/shuffle/runtime/job.js';
import { fixture } from './support/child.js';
import { tempDirs } from './support/temp-dirs.js';

const tmp = tempDirs('partd-claim-');
const OWNER = tuple('owner');
const JOB = tuple('job');

/** The job the children run (claim-child.mjs), in this process. */
interface Job {
  count: number;
  key?: 'key' | 'tag';
  export?: 'records' | 'slow';
  splits?: number;
}
const run = (store: string | Lmdb, job: Job, extra: { signal?: AbortSignal; progress?: () => void } = {}) =>
  groupBy({
    input: { generate: { module: fixture('claim-records.mjs'), export: job.export ?? 'records' }, count: job.count },
    key: job.key ?? 'key',
    partitions: 4,
    workers: 1,
    splits: job.splits ?? 4,
    store,
    aggregate: { n: { op: 'count' }, total: { op: 'sum', field: 'amount' } },
    ...extra,
  }).then((groups) => sorted([...groups.values()]));
const sorted = (rows: GroupRow[]) => rows.sort((a, b) => String(a.key).localeCompare(String(b.key)));

/** The rows of `job`, computed here (the records of shuffle-modules.mjs). */
function reference(job: Job): GroupRow[] {
  const tags = ['a', 'b', 'c'];
  const m = new Map<string, { key: string; n: number; total: number }>();
  for (let i = 0; i < job.count; i++) {
    const key = job.key === 'tag' ? tags[i % 3]! : `k${(i * 7) % 50}`;
    const g = m.get(key) ?? { key, n: 0, total: 0 };
    g.n++;
    g.total += (i % 13) - 3;
    m.set(key, g);
  }
  return sorted([...m.values()]);
}

interface Outcome {
  ok: boolean;
  rows?: GroupRow[];
  name?: string;
  code?: string;
  message?: string;
  owner?: { pid: number; host: string; since: string };
}
interface Child {
  pid: number;
  ready: Promise<void>;
  running: Promise<void>;
  go(): void;
  kill(): void;
  done: Promise<{ out?: Outcome; signal: NodeJS.Signals | null; stderr: string }>;
}

/** Starts claim-child.mjs on `store`; with `go`, it waits for `child.go()` to start the job. */
function child(store: string, job: Job & { go?: boolean }): Child {
  const proc = spawn(process.execPath, [fixture('claim-child.mjs'), store, JSON.stringify(job)], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  let out: Outcome | undefined;
  let stderr = '';
  let partial = '';
  const seen = new Map<string, () => void>();
  const line = (name: string) => new Promise<void>((resolve) => seen.set(name, resolve));
  const ready = line('ready');
  const running = line('running');
  proc.stdout.on('data', (d: Buffer) => {
    partial += d;
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const l = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      if (l.startsWith('result ')) out = JSON.parse(l.slice(7)) as Outcome;
      else seen.get(l)?.();
    }
  });
  proc.stderr.on('data', (d: Buffer) => (stderr += d));
  const done = new Promise<{ out?: Outcome; signal: NodeJS.Signals | null; stderr: string }>((resolve, reject) => {
    proc.on('error', reject);
    proc.on('close', (_code, signal) => resolve({ out, signal, stderr }));
  });
  return {
    pid: proc.pid!,
    ready,
    running,
    go: () => proc.stdin.end('go\n'),
    kill: () => proc.kill('SIGKILL'),
    done,
  };
}

/** What the owner key holds, read with a raw store. */
async function ownerBytes(store: string): Promise<string> {
  const raw = new Lmdb(store);
  try {
    return Buffer.from(await raw.get(OWNER)).toString('utf8');
  } finally {
    await raw.close();
  }
}

/** What the claim's note beside the database says ('' once released). */
const note = (store: string) => fs.readFileSync(path.join(store, '.partd-job-owner'), 'utf8');

/** The resume and the refusal of another job that must follow every race: the store is sound. */
async function afterwards(store: string, job: Job): Promise<void> {
  expect(await ownerBytes(store)).toBe(''); // the winner released its claim
  expect(note(store)).toBe('');
  expect(await run(store, job)).toEqual(reference(job)); // resumes: the job's splits are all committed
  const other = run(store, { ...job, key: 'tag' });
  await expect(other).rejects.toThrow(/^store: .* holds another shuffle job/);
  await expect(other).rejects.not.toBeInstanceOf(SyntaxError);
}

const busyMessage = (pid: number) =>
  new RegExp(`^store: .* is in use by another shuffle job: pid ${pid} on ${os.hostname()}, since \\d{4}-\\d\\d-\\d\\dT`);

describe('two jobs started at one moment on one new store', () => {
  const job: Job = { count: 2000, export: 'slow', splits: 6 };
  const want = reference(job);

  it('in two processes, 12 rounds: one runs and gives the exact result, the other is told the store is busy, and by whom', async () => {
    for (let round = 0; round < 12; round++) {
      const store = path.join(tmp(), 'store');
      const kids = [child(store, { ...job, go: true }), child(store, { ...job, go: true })];
      await Promise.all(kids.map((k) => k.ready));
      kids.forEach((k) => k.go());
      const ends = await Promise.all(kids.map((k) => k.done));
      ends.forEach((e) => expect(e.stderr).toBe(''));
      const won = ends.findIndex((e) => e.out?.ok);
      expect(won).toBeGreaterThanOrEqual(0);
      const [winner, loser] = [ends[won]!.out!, ends[1 - won]!.out!];
      expect(winner.rows).toEqual(want);
      expect(loser).toMatchObject({
        ok: false,
        name: 'StoreBusyError',
        code: 'ERR_STORE_BUSY',
        owner: { pid: kids[won]!.pid, host: os.hostname() },
      });
      expect(loser.message).toMatch(busyMessage(kids[won]!.pid));
      await afterwards(store, job);
    }
  });

  it('in one process, 10 rounds (Promise.allSettled): the same', async () => {
    for (let round = 0; round < 10; round++) {
      const store = path.join(tmp(), 'store');
      const both = await Promise.allSettled([run(store, job), run(store, job)]);
      const won = both.filter((r) => r.status === 'fulfilled');
      const lost = both.filter((r) => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(won[0]!.value).toEqual(want);
      expect(lost).toHaveLength(1);
      const e = lost[0]!.reason as StoreBusyError;
      expect(e).toBeInstanceOf(StoreBusyError);
      expect(e.code).toBe('ERR_STORE_BUSY');
      expect(e.owner).toMatchObject({ pid: process.pid, host: os.hostname() });
      expect(e.message).toMatch(busyMessage(process.pid));
      await afterwards(store, job);
    }
  });

  it('a path and an Lmdb instance of the same store, in one process: the same', async () => {
    const dir = path.join(tmp(), 'store');
    const instance = new Lmdb(dir); // synced, open while the path's job opens the store noSync
    const both = await Promise.allSettled([run(dir, job), run(instance, job)]);
    expect(both.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const e = (both.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason as Error;
    expect(e).toBeInstanceOf(StoreBusyError);
    expect((both.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<GroupRow[]>).value).toEqual(want);
    expect(await run(instance, job)).toEqual(want);
    await instance.close();
    await afterwards(dir, job);
  });
});

describe('a claim whose owner is gone, or cannot be checked', () => {
  const job: Job = { count: 4000, export: 'slow', splits: 40 }; // about 1 s in one worker
  const want = reference(job);

  it('a job SIGKILLed while it holds the store: busy while it runs, taken over at once after', async () => {
    const store = path.join(tmp(), 'store');
    const victim = child(store, job);
    await victim.running;
    expect(JSON.parse(note(store))).toMatchObject({ pid: victim.pid, host: os.hostname() });
    // while it runs: busy, through a path and through an Lmdb instance
    await expect(run(store, job)).rejects.toThrow(busyMessage(victim.pid));
    const instance = new Lmdb(store);
    await expect(run(instance, { ...job, key: 'tag' })).rejects.toMatchObject({ name: 'StoreBusyError', owner: { pid: victim.pid } });
    await instance.close();
    victim.kill();
    expect((await victim.done).signal).toBe('SIGKILL');
    expect(await ownerBytes(store)).toContain(`"pid":${victim.pid},`); // its claim is still there
    expect(note(store)).toContain(`"pid":${victim.pid},`);
    const t0 = performance.now();
    expect(await run(store, job)).toEqual(want);
    expect(performance.now() - t0).toBeLessThan(15_000); // no waiting for a lease or lock to expire
    expect(await ownerBytes(store)).toBe('');
    expect(note(store)).toBe('');
  });

  it('a claim by a pid now used by another process (another start time) is stale', async () => {
    if (process.platform !== 'linux') return;
    const store = path.join(tmp(), 'store');
    expect(await run(store, job)).toEqual(want);
    const raw = new Lmdb(store);
    // the parent of this process runs, but it is not the process that claimed the store
    const claim = { pid: process.ppid, host: os.hostname(), start: 1, thread: 0, session: 'x', since: new Date().toISOString() };
    await raw.append([[OWNER, Buffer.from(JSON.stringify(claim) + '\n')]]);
    await raw.close();
    expect(await run(store, job)).toEqual(want);
  });

  it('a claim from another host is reported busy, with how to clear it; cleared, the job runs', async () => {
    const store = path.join(tmp(), 'store');
    expect(await run(store, job)).toEqual(want);
    const raw = new Lmdb(store);
    const claim = { pid: 4242, host: 'elsewhere.example', start: 17, thread: 0, session: 'x', since: '2024-01-02T03:04:05.000Z' };
    await raw.append([[OWNER, Buffer.from(JSON.stringify(claim) + '\n')]]);
    await raw.close();
    const busy = run(store, job);
    await expect(busy).rejects.toMatchObject({
      name: 'StoreBusyError',
      code: 'ERR_STORE_BUSY',
      owner: { pid: 4242, host: 'elsewhere.example', since: '2024-01-02T03:04:05.000Z' },
    });
    await expect(busy).rejects.toThrow(
      /^store: .* is in use by another shuffle job: pid 4242 on elsewhere\.example, since 2024-01-02T03:04:05\.000Z; .*another host.* if it is gone, clear its claim: await new Lmdb\(.*\)\.delete\(tuple\('owner'\)\)/,
    );
    const clear = new Lmdb(store);
    await clear.delete(tuple('owner')); // what the message says
    await clear.close();
    expect(await run(store, job)).toEqual(want);
  });
});

describe('a job record that cannot be read', () => {
  const job: Job = { count: 500 };
  it.each([
    ['bytes that are not JSON', Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x7b])],
    ['JSON that is not a job', Buffer.from('{"hello":"world"}')],
  ])('%s: a StoreKindError naming the store', async (_, bytes) => {
    const store = path.join(tmp(), 'store');
    const raw = new Lmdb(store);
    await raw.append([[JOB, bytes]]);
    await raw.close();
    const r = run(store, job);
    await expect(r).rejects.toBeInstanceOf(StoreKindError);
    await expect(r).rejects.toThrow(
      new RegExp(`^shuffle: ${store.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not a shuffle store \\(its job record is not`),
    );
  });

  it('two job records in one (what issue 15 left behind): a StoreKindError, not a SyntaxError', async () => {
    const store = path.join(tmp(), 'store');
    expect(await run(store, job)).toEqual(reference(job));
    const raw = new Lmdb(store);
    await raw.append([[JOB, await raw.get(JOB)]]);
    await raw.close();
    await expect(run(store, job)).rejects.toThrow(/^shuffle: .* is not a shuffle store \(its job record is not JSON/);
  });
});

describe('the end of a job releases its store', () => {
  const job: Job = { count: 2000, export: 'slow', splits: 8 };
  const want = reference(job);

  it('after success: the claim is gone, and the job runs again at once', async () => {
    const store = path.join(tmp(), 'store');
    expect(await run(store, job)).toEqual(want);
    expect(await ownerBytes(store)).toBe('');
    expect(note(store)).toBe('');
    expect(await run(store, job)).toEqual(want);
  });

  it('after an abort: the claim is gone, and the job resumes at once', async () => {
    const store = path.join(tmp(), 'store');
    const ac = new AbortController();
    await expect(run(store, job, { signal: ac.signal, progress: () => ac.abort() })).rejects.toThrow(/abort/i);
    expect(await ownerBytes(store)).toBe('');
    expect(await run(store, job)).toEqual(want);
  });

  it('after a failing job: the claim is gone; the job fails again with its own error, not as busy', async () => {
    const store = path.join(tmp(), 'store');
    const bad = () =>
      groupBy({
        input: { generate: { module: fixture('claim-records.mjs'), export: 'records' }, count: 100 },
        key: 'nope',
        workers: 1,
        store,
        retries: 0,
        aggregate: { n: { op: 'count' } },
      });
    await expect(bad()).rejects.toThrow(/nope/);
    expect(await ownerBytes(store)).toBe('');
    await expect(bad()).rejects.toThrow(/nope/);
    await expect(bad()).rejects.not.toBeInstanceOf(StoreBusyError);
  });

  it('a shuffle holds its store until its handle is closed; drop, then another job', async () => {
    const store = path.join(tmp(), 'store');
    const options = {
      input: { generate: { module: fixture('claim-records.mjs'), export: 'records' }, count: 500 },
      key: 'key',
      partitions: 4,
      workers: 1,
      store,
    };
    const handle = await shuffle(options);
    await expect(run(store, { count: 500 })).rejects.toBeInstanceOf(StoreBusyError);
    await expect(shuffle(options)).rejects.toBeInstanceOf(StoreBusyError);
    await handle.close();
    await handle.close(); // again: nothing
    const again = await shuffle(options); // resumes
    expect((await Promise.all(Array.from({ length: 4 }, (_, p) => again.get(p)))).flat()).toHaveLength(500);
    await again.drop(); // empties the store, then releases it
    expect(await run(store, { count: 500, key: 'tag' })).toEqual(reference({ count: 500, key: 'tag' }));
  });

  it('openJob: a kept store is synced (noSync lost commits while other processes opened it), a temporary one not; release is idempotent, and harmless once closed', async () => {
    const dir = path.join(tmp(), 'store');
    const job = { version: 1, input: 'x', splits: [] };
    const a = await openJob(dir, job);
    expect(a.store.noSync).toBe(false);
    expect(a.ownsStore).toBe(true);
    await a.release();
    await a.release();
    await a.store.close();
    await a.release();
    const b = await openJob(dir, job); // the same job again, in this process: free
    await b.store.close(); // closed before its release: the claim stays in the store…
    await b.release();
    expect(await ownerBytes(dir)).toContain(`"pid":${process.pid},`);
    const c = await openJob(dir, job); // …and is stale, as its job is over
    await c.release();
    await c.store.close();
    const temporary = await openJob(undefined, job);
    expect(temporary.ownsStore).toBe(true);
    expect(temporary.store.noSync).toBe(true);
    await temporary.release();
    await temporary.store.close();
  });
});
