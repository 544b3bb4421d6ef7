/**
 * Fault injection (the internal option `FAULTS`, runtime/faults.ts): W2-shaped groupBy and
 * shuffle runs where workers throw, exit, hang (and are terminated by taskTimeout) or run out of
 * memory at seeded random points — in scatter, inside a commit transaction, and in gather. Every
 * run must equal the reference exactly, and count the retries its faults caused.
 */
import { describe, expect, it } from '@jest/globals';
import { groupBy, iterateGroups, shuffle, type Aggregation, type ShuffleStats } from '../src/index.js';
import { FAULTS, withFaults, type Fault } from '../src/shuffle/runtime/faults.js';
import { fixture } from './support/child.js';
import { fourSplits, randomFaults } from './support/faults.js';

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

describe.each(['throw', 'exit', 'hang'] as const)('20 seeded %s faults', (action) => {
  it.each(Array.from({ length: 20 }, (_, i) => 1000 * (['throw', 'exit', 'hang'].indexOf(action) + 1) + i))(
    'seed %i: groupBy equals the reference',
    async (seed) => {
      const faults = randomFaults(seed, action, fourSplits(N, P));
      // A small memory share makes each split commit several parts, so faults land between parts too.
      const groups = await groupBy(
        withFaults(
          {
            input: gen,
            splits: 4,
            key: 'key',
            partitions: P,
            workers: 2,
            memory: 4 << 20,
            aggregate,
            taskTimeout: action === 'hang' ? 3000 : undefined,
          },
          faults,
        ),
      );
      expect(groups.size).toBe(expected.size);
      const diffs = [...expected].filter(([k, want]) => JSON.stringify(groups.get(k)) !== JSON.stringify(want));
      // on failure, the count and a few groups as found and as expected
      expect({ count: diffs.length, some: diffs.slice(0, 3).map(([k, want]) => ({ got: groups.get(k), want })) }).toEqual({
        count: 0,
        some: [],
      });
      expect(groups.stats!.records).toBe(N);
      // every fault fired and was retried once, counted in its phase (see randomFaults)
      const gather = faults[0]!.at === 'gather';
      expect({ retried: groups.stats!.retried, gatherRetried: groups.stats!.gatherRetried }).toEqual({
        retried: gather ? 0 : faults.length,
        gatherRetried: gather ? faults.length : 0,
      });
    },
  );
});

describe('raw shuffle under faults (no map-side combine)', () => {
  it.each([
    ['throw at record 12000 of a split', { at: 'read', split: 1, attempt: 1, after: 12_000, action: 'throw' }],
    ['exit at record 20000 of a split', { at: 'read', split: 2, attempt: 1, after: 20_000, action: 'exit' }],
    ['throw inside the second commit transaction', { at: 'commit', split: 2, attempt: 1, after: 1, action: 'throw' }],
    ['throw inside the first commit transaction, twice', { at: 'commit', split: 0, attempt: 1, after: 0, action: 'throw' }],
  ] as [string, Fault][])('%s: every record exactly once', async (_, fault) => {
    const faults = fault.after === 0 ? [fault, { ...fault, attempt: 2 }] : [fault];
    await using h = await shuffle<{ id: number; key: string }>(
      withFaults({ input: gen, splits: 4, key: 'key', partitions: P, workers: 2, memory: 2 << 20 }, faults),
    );
    const ids = new Uint8Array(N);
    for (let p = 0; p < P; p++) for (const r of await h.get(p)) ids[r.id]!++;
    expect(ids.every((c) => c === 1)).toBe(true);
    expect(h.stats.retried).toBe(faults.length);
  });

  it('a worker that runs out of memory is replaced and its split retried', async () => {
    const faults: Fault[] = [{ at: 'read', split: 1, attempt: 1, after: 8000, action: 'oom' }];
    const groups = await groupBy(
      withFaults({ input: gen, splits: 4, key: 'key', partitions: P, workers: 2, aggregate, workerHeapMB: 96 }, faults),
    );
    expect(groups.size).toBe(expected.size);
    expect(groups.stats!.retried).toBe(1);
  });

  it('after the retries, the error names the split, the attempts and each cause', async () => {
    const faults: Fault[] = [1, 2, 3].map((attempt) => ({
      at: 'read',
      split: 3,
      attempt,
      after: 1,
      action: attempt === 2 ? 'exit' : 'throw',
    }));
    await expect(groupBy(withFaults({ input: gen, splits: 4, key: 'key', partitions: P, workers: 2, aggregate }, faults))).rejects.toThrow(
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
    const run = groupBy(
      withFaults({ input: gen, splits: 4, key: 'key', partitions: P, workers: 2, aggregate, signal: controller.signal }, faults),
    );
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - t0).toBeLessThan(5000);
    const pre = new AbortController();
    pre.abort();
    await expect(groupBy({ input: gen, key: 'key', aggregate, signal: pre.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('gather faults reach the stats', () => {
  const shuffled = { input: gen, splits: 4, key: 'key', partitions: P, workers: 2 };

  it("ShuffleHandle.gather: each retried gather task is counted in its result's stats and the handle's", async () => {
    const faults: Fault[] = [
      { at: 'gather', partition: 5, attempt: 1, after: 0, action: 'throw' },
      { at: 'gather', partition: 5, attempt: 2, after: 1, action: 'exit' },
      { at: 'gather', partition: 11, attempt: 1, after: 1, action: 'throw' },
    ];
    await using h = await shuffle(withFaults(shuffled, faults));
    expect(h.stats.gatherRetried).toBe(0);
    const reducer = { module: fixture('shuffle-modules.mjs'), export: 'countIds' };
    const counts = await h.gather<{ ids: number[] }>(reducer);
    const ids = new Uint8Array(N);
    for (const c of counts) for (const id of c.ids) ids[id]!++;
    expect(ids.every((c) => c === 1)).toBe(true); // every record once, whatever the attempts
    expect(counts.stats).toEqual({ gatherRetried: 3 });
    expect(Object.keys(counts)).toHaveLength(P); // `stats` is not enumerable: the array is the results alone
    expect(h.stats).toMatchObject({ retried: 0, gatherRetried: 3 });
    const again = await h.gather<{ ids: number[] }>(reducer); // attempt 1 again: the faults fire again
    expect(again.stats.gatherRetried).toBe(3);
    expect(h.stats.gatherRetried).toBe(6);
  });

  it("iterateGroups: the object onStats receives gets the gather retries by the iteration's end", async () => {
    const faults: Fault[] = [{ at: 'gather', partition: 2, attempt: 1, after: 1, action: 'throw' }];
    let stats: ShuffleStats | undefined;
    let rows = 0;
    for await (const _ of iterateGroups(withFaults({ ...shuffled, aggregate }, faults), (s) => (stats = s))) rows++;
    expect(rows).toBe(expected.size);
    expect(stats).toMatchObject({ records: N, retried: 0, gatherRetried: 1 });
  });

  it('a run without faults retries nothing', async () => {
    const groups = await groupBy({ ...shuffled, aggregate });
    expect(groups.stats).toMatchObject({ records: N, retried: 0, gatherRetried: 0 });
  });

  it('the fault option is a symbol: refused by no name check, checked, and never read from the environment', async () => {
    expect(typeof FAULTS).toBe('symbol');
    await expect(groupBy({ ...shuffled, aggregate, [FAULTS]: 'throw' } as never)).rejects.toThrow(
      /^options\[FAULTS\]: expected an array of faults, got the string "throw"$/,
    );
    await expect(groupBy({ ...shuffled, aggregate, [FAULTS]: [{ at: 'read', action: 'explode', attempt: 1 }] } as never)).rejects.toThrow(
      /^options\[FAULTS\]\[0\]: expected \{ at, attempt, action/,
    );
    process.env.PARTD_FAULTS = JSON.stringify([{ at: 'read', split: 0, attempt: 1, after: 1, action: 'throw' }]);
    try {
      const groups = await groupBy({ ...shuffled, aggregate });
      expect(groups.stats).toMatchObject({ records: N, retried: 0 });
    } finally {
      delete process.env.PARTD_FAULTS;
    }
  });
});
