/**
 * Fault injection: W2-shaped groupBy and shuffle runs where workers throw, exit, hang (and
 * are terminated by taskTimeout) or run out of memory at seeded random points — in scatter,
 * inside a commit transaction, and in gather. Every run must equal the reference exactly.
 */
import { describe, expect, it } from '@jest/globals';
import { groupBy, shuffle, type Aggregation } from '../src/index.js';
import type { Fault } from '../src/shuffle/runtime/faults.js';
import { fixture } from './support/child.js';

const N = 200_000;
const P = 16;
const gen = { generate: { module: fixture('w2.mjs'), export: 'range' }, count: N };
const TAGS = ['alpha', 'beta', 'gamma', 'delta', 'eps', 'zeta', 'eta', 'theta'];
const keyOf = (i: number) => 'user' + ((Math.imul(i, 2654435761) >>> 0) % 100000);

// Integer-valued aggregations, so "equal" can be exact whatever the order of additions.
const aggregate: Record<string, Aggregation> = {
  n: { op: 'count' },
  ids: { op: 'sum', field: 'id' },
  firstId: { op: 'first', field: 'id' },
  lastTag: { op: 'last', field: 'tag' },
};
function reference() {
  const m = new Map<string, { key: string; n: number; ids: number; firstId: number; lastTag: string }>();
  for (let i = 0; i < N; i++) {
    const k = keyOf(i);
    const g = m.get(k);
    if (g) (g.n++, (g.ids += i), (g.lastTag = TAGS[i % 8]!));
    else m.set(k, { key: k, n: 1, ids: i, firstId: i, lastTag: TAGS[i % 8]! });
  }
  return m;
}
const expected = reference();

/** mulberry32: a small seeded PRNG, so every fault point can be replayed. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random fault point: where (read, commit, gather), which split/partition, at what count. */
function randomFaults(seed: number, action: Fault['action']): Fault[] {
  const r = prng(seed);
  const pick = (n: number) => Math.floor(r() * n);
  const at = (['read', 'commit', 'gather'] as const)[pick(3)]!;
  const faults: Fault[] = [];
  for (const attempt of r() < 0.3 ? [1, 2] : [1]) {
    if (at === 'gather') faults.push({ at, partition: pick(P), attempt, after: pick(2), action });
    // commit faults fire inside the coordinator's transaction, where the failure is an exception
    else faults.push({ at, split: pick(4), attempt, after: at === 'commit' ? pick(3) : 1 + pick(N / 4 - 1), action: at === 'commit' ? 'throw' : action });
  }
  return faults;
}

async function withFaults<T>(faults: Fault[], fn: () => Promise<T>): Promise<T> {
  process.env.PARTD_FAULTS = JSON.stringify(faults);
  try {
    return await fn();
  } finally {
    delete process.env.PARTD_FAULTS;
  }
}


describe.each(['throw', 'exit', 'hang'] as const)('20 seeded %s faults', (action) => {
  it.each(Array.from({ length: 20 }, (_, i) => 1000 * (['throw', 'exit', 'hang'].indexOf(action) + 1) + i))('seed %i: groupBy equals the reference', async (seed) => {
    const faults = randomFaults(seed, action);
    // A small memory share makes each split commit several parts, so faults land between parts too.
    const groups = await withFaults(faults, () => groupBy({ input: gen, splits: 4, key: 'key', partitions: P, workers: 2, memory: 4 << 20, aggregate, taskTimeout: action === 'hang' ? 3000 : undefined }));
    expect(groups.size).toBe(expected.size);
    const diffs = [...expected].filter(([k, want]) => JSON.stringify(groups.get(k)) !== JSON.stringify(want));
    // on failure, the count and a few groups as found and as expected
    expect({ count: diffs.length, some: diffs.slice(0, 3).map(([k, want]) => ({ got: groups.get(k), want })) }).toEqual({ count: 0, some: [] });
    expect(groups.stats!.records).toBe(N);
    if (faults.some((f) => f.at !== 'gather')) expect(groups.stats!.retried).toBeGreaterThan(0);
  });
});

describe('raw shuffle under faults (no map-side combine)', () => {
  it.each([
    ['throw at record 12000 of a split', { at: 'read', split: 1, attempt: 1, after: 12_000, action: 'throw' }],
    ['exit at record 20000 of a split', { at: 'read', split: 2, attempt: 1, after: 20_000, action: 'exit' }],
    ['throw inside the second commit transaction', { at: 'commit', split: 2, attempt: 1, after: 1, action: 'throw' }],
    ['throw inside the first commit transaction, twice', { at: 'commit', split: 0, attempt: 1, after: 0, action: 'throw' }],
  ] as [string, Fault][])('%s: every record exactly once', async (_, fault) => {
    const faults = fault.after === 0 ? [fault, { ...fault, attempt: 2 }] : [fault];
    await using h = await withFaults(faults, () => shuffle<{ id: number; key: string }>({ input: gen, splits: 4, key: 'key', partitions: P, workers: 2, memory: 2 << 20 }));
    const ids = new Uint8Array(N);
    for (let p = 0; p < P; p++) for (const r of await h.get(p)) ids[r.id]!++;
    expect(ids.every((c) => c === 1)).toBe(true);
    expect(h.stats.retried).toBe(faults.length);
  });

  it('a worker that runs out of memory is replaced and its split retried', async () => {
    const faults: Fault[] = [{ at: 'read', split: 1, attempt: 1, after: 8000, action: 'oom' }];
    const groups = await withFaults(faults, () => groupBy({ input: gen, splits: 4, key: 'key', partitions: P, workers: 2, aggregate, workerHeapMB: 96 }));
    expect(groups.size).toBe(expected.size);
    expect(groups.stats!.retried).toBe(1);
  });

  it('after the retries, the error names the split, the attempts and each cause', async () => {
    const faults: Fault[] = [1, 2, 3].map((attempt) => ({ at: 'read', split: 3, attempt, after: 1, action: attempt === 2 ? 'exit' : 'throw' }));
    await expect(withFaults(faults, () => groupBy({ input: gen, splits: 4, key: 'key', partitions: P, workers: 2, aggregate }))).rejects.toThrow(
      /^split 3 \(records \d+\.\.\d+\) failed after 3 attempts \(attempt 1: injected fault \(read 1, attempt 1\); attempt 2: .*exit.*; attempt 3: injected fault \(read 1, attempt 3\)\)$/,
    );
  });
});

describe('abort', () => {
  it('an AbortSignal stops the workers promptly, rejects with AbortError and removes the temporary store', async () => {
    const controller = new AbortController();
    const faults: Fault[] = [{ at: 'read', split: 0, attempt: 1, after: 1, action: 'hang' }];
    const t0 = Date.now();
    setTimeout(() => controller.abort(), 300);
    const run = withFaults(faults, () => groupBy({ input: gen, splits: 4, key: 'key', partitions: P, workers: 2, aggregate, signal: controller.signal }));
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - t0).toBeLessThan(5000);
    const pre = new AbortController();
    pre.abort();
    await expect(groupBy({ input: gen, key: 'key', aggregate, signal: pre.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });
});
