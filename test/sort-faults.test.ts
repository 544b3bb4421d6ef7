/**
 * The seeded fault runs of test/faults.test.ts (test/support/faults.ts: workers that throw, exit
 * or hang in scatter, inside a commit transaction, or in gather) applied to sort: W2's records
 * sorted by amount, every run exact — each record once, in (amount, input order) — with the
 * retries its faults caused. And a sort's own tasks, the samples, failing once or every time.
 */
import { describe, expect, it } from '@jest/globals';
import { sort, type SortStats } from '../src/index.js';
import { withFaults } from '../src/shuffle/runtime/faults.js';
import { fixture } from './support/child.js';
import { fourSplits, randomFaults } from './support/faults.js';

const N = 200_000;
const P = 16;
const gen = { generate: { module: fixture('w2.mjs'), export: 'range' }, count: N };
const TAGS = ['alpha', 'beta', 'gamma', 'delta', 'eps', 'zeta', 'eta', 'theta'];

/** The ids in order of (amount, input order): W2's amount is (i mod 1000) / 10, so by i mod 1000, then i. */
function expectedIds(descending: boolean): Int32Array {
  const out = new Int32Array(N);
  let n = 0;
  for (let r = 0; r < 1000; r++) for (let i = descending ? 999 - r : r; i < N; i += 1000) out[n++] = i;
  return out;
}

// Seeds chosen so every site is hit: scatter reads (twice in a row too), commit transactions
// (twice too), and gather (after its first batch, and before any).
describe.each([
  ['throw', [3002, 3003, 3012, 3004]],
  ['exit', [3100, 3101, 3102]],
  ['hang', [3205, 3201]],
] as const)('seeded %s faults', (action, seeds) => {
  it.each(seeds.map((seed): [number, boolean] => [seed, seed % 2 === 1]))(
    'seed %i (descending %s): the sort is exact',
    async (seed, descending) => {
      const faults = randomFaults(seed, action, fourSplits(N, P));
      const options = { input: gen, splits: 4, key: 'amount', partitions: P, workers: 2, memory: 4 << 20, descending };
      let stats: SortStats | undefined;
      const ids = new Int32Array(N);
      let n = 0;
      let wrong = 0;
      const run = sort<{ id: number; key: string; amount: number; tag: string }>(
        withFaults({ ...options, taskTimeout: action === 'hang' ? 3000 : undefined }, faults),
        (s) => (stats = s),
      );
      for await (const r of run) {
        if (n < N) ids[n] = r.id;
        n++;
        if (
          r.amount !== (r.id % 1000) / 10 ||
          r.tag !== TAGS[r.id % 8] ||
          r.key !== 'user' + ((Math.imul(r.id, 2654435761) >>> 0) % 100000)
        )
          wrong++;
      }
      const want = expectedIds(descending);
      const first = ids.findIndex((id, i) => id !== want[i]);
      expect({ records: n, firstOutOfPlace: first, wrong }).toEqual({ records: N, firstOutOfPlace: -1, wrong: 0 });
      // every fault fired and was retried once, counted in its phase (see randomFaults)
      const gather = faults[0]!.at === 'gather';
      expect({ retried: stats!.retried, gatherRetried: stats!.gatherRetried }).toEqual({
        retried: gather ? 0 : faults.length,
        gatherRetried: gather ? faults.length : 0,
      });
    },
  );
});

describe('sample tasks', () => {
  it.each(['throw', 'exit'] as const)('a sample task that fails (%s) is retried; the sort is exact, the retry counted', async (action) => {
    const faults = [{ at: 'sample', split: 2, attempt: 1, action } as const];
    let stats: SortStats | undefined;
    const ids: number[] = [];
    for await (const r of sort<{ id: number }>(
      withFaults({ input: gen, splits: 4, key: 'amount', partitions: P, workers: 2 }, faults),
      (s) => (stats = s),
    ))
      ids.push(r.id);
    const want = expectedIds(false);
    expect({ records: ids.length, firstOutOfPlace: ids.findIndex((id, i) => id !== want[i]) }).toEqual({ records: N, firstOutOfPlace: -1 });
    expect(stats).toMatchObject({ sampleRetried: 1, retried: 0, gatherRetried: 0 });
  });

  it('a sample task that fails every attempt fails the sort, naming the split', async () => {
    const faults = [1, 2, 3].map((attempt) => ({ at: 'sample', split: 1, attempt, action: 'throw' }) as const);
    const run = async () => {
      for await (const _ of sort(withFaults({ input: gen, splits: 4, key: 'amount', partitions: P, workers: 2 }, faults)));
    };
    await expect(run()).rejects.toThrow(
      /^the sample of split 1 \(records 50000\.\.100000\) failed after 3 attempts \(attempt 1: injected fault/,
    );
  });
});
