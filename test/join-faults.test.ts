/**
 * The seeded faults of test/faults.test.ts (runtime/faults.ts) applied to joins: workers
 * throw, exit or hang (terminated by taskTimeout) while scattering either side, inside a commit
 * transaction of either side, and while joining a partition — grace re-splits into spill stores
 * included — and a skewed partition's slices fail. Every run must equal the reference exactly
 * and count the retries its faults caused.
 */
import { describe, expect, it } from '@jest/globals';
import { join, partitionOf, type JoinOptions, type JoinRow, type JoinStats } from '../src/index.js';
import { RIGHT_SPLITS } from '../src/shuffle/protocol.js';
import { withFaults, type Fault } from '../src/shuffle/runtime/faults.js';
import { fixture } from './support/child.js';
import { randomFaults } from './support/faults.js';
import { canonical, nestedLoopJoin } from './support/join-reference.js';

const N = 40_000;
const SHIFT = 20_000; // join-modules.mjs: padded(…)'s ids start there
const P = 8;
const mods = fixture('join-modules.mjs');

type Left = { id: number; tag: string; pad: string };
type Right = { id: number; w: number; pad: string };

/** A row as a short string that tells it apart (pads by their length). */
const fingerprint = (r: JoinRow<Left, Right>) =>
  `${r.key}|${r.left ? `${r.left.id},${r.left.tag},${r.left.pad.length}` : '-'}|${r.right ? `${r.right.id},${r.right.w},${r.right.pad.length}` : '-'}`;

/** The outer join of wide(0, N) and padded(0, N) on id, from the records' definitions. */
function reference(): string[] {
  const rows: string[] = [];
  const left = (id: number) => `${id},${['a', 'b', 'c'][id % 3]},200`;
  const right = (id: number) => `${id},${(id - SHIFT) % 7},200`;
  for (let id = 0; id < N + SHIFT; id++) rows.push(`${id}|${id < N ? left(id) : '-'}|${id >= SHIFT ? right(id) : '-'}`);
  return rows.sort();
}
const expected = reference();

async function run(options: JoinOptions): Promise<{ rows: string[]; stats: JoinStats }> {
  let stats: JoinStats | undefined;
  const rows: string[] = [];
  for await (const row of join(options as JoinOptions<Left, Right>, (s) => (stats = s))) rows.push(fingerprint(row));
  return { rows: rows.sort(), stats: stats! };
}

// Seeds whose faults land in a gather task after its first batch (mid re-split), in a commit
// of the left and of the right, and in reading the right and the left (randomFaults draws the
// same points whatever the action).
const SEEDS = { throw: [7002, 7003, 7005, 7006, 7012], exit: [7002, 7005, 7006], hang: [7002, 7005] };

describe.each(['throw', 'exit', 'hang'] as const)('seeded %s faults', (action) => {
  it.each(SEEDS[action])('seed %i: the outer join equals the reference', async (seed) => {
    // both sides' splits; 10,000 records each, each split commits at least twice (a megabyte a session, 215 bytes a record)
    const shape = {
      splits: [0, 1, 2, 3, RIGHT_SPLITS, RIGHT_SPLITS + 1, RIGHT_SPLITS + 2, RIGHT_SPLITS + 3],
      perSplit: N / 4,
      parts: 2,
      partitions: P,
    };
    const faults = randomFaults(seed, action, shape);
    const options: JoinOptions = {
      left: { generate: { module: mods, export: 'wide' }, count: N },
      right: { generate: { module: mods, export: 'padded' }, count: N },
      on: 'id',
      how: 'outer',
      partitions: P,
      workers: 2,
      splits: 4,
      memory: 2 << 20, // 1 MiB a session; a task holds 128 KiB of a build side, so every partition is re-split (grace)
      taskTimeout: action === 'hang' ? 3000 : undefined,
    };
    const { rows, stats } = await run(withFaults(options, faults));
    expect(rows.length).toBe(expected.length);
    expect(rows).toEqual(expected);
    expect(stats.resplits).toBeGreaterThanOrEqual(P);
    // every fault fired and was retried once, counted in its phase (see randomFaults)
    const gather = faults[0]!.at === 'gather';
    const retried = { scatter: stats.left.retried + stats.right.retried, gather: stats.gatherRetried };
    const want = { scatter: gather ? 0 : faults.length, gather: gather ? faults.length : 0 };
    if (action !== 'hang') expect(retried).toEqual(want);
    else {
      // a healthy task that outruns the 3 s timeout on a busy machine is retried as well (CI: a grace gather did)
      expect(retried.scatter).toBeGreaterThanOrEqual(want.scatter);
      expect(retried.gather).toBeGreaterThanOrEqual(want.gather);
    }
  });
});

it("a fault in a skewed partition fails each of its slices' first attempts and its unmatched rows' unit: all retried, the rows exact", async () => {
  type Rec = { i: number; k: string | null };
  const left: Rec[] = Array.from({ length: 30_000 }, (_, i) => ({ i, k: i % 10 < 6 ? 'hot' : `c${i % 997}` }));
  const right: Rec[] = Array.from({ length: 302 }, (_, i) => ({ i, k: i >= 300 ? 'hot' : [`c${i * 2}`, `z${i}`, null][i % 3]! }));
  const faults: Fault[] = [{ at: 'gather', partition: partitionOf('hot', P), attempt: 1, after: 1, action: 'throw' }];
  let stats: JoinStats | undefined;
  const rows: unknown[] = [];
  const options: JoinOptions = { left: { records: left }, right: { records: right }, on: 'k', how: 'outer', partitions: P, workers: 2 };
  for await (const row of join(withFaults(options, faults), (s) => (stats = s))) rows.push(row);
  const k = (r: Rec) => r.k;
  expect(canonical(rows)).toEqual(canonical(nestedLoopJoin(left, right, k, k, 'outer')));
  expect(stats!.skewed).toBe(1);
  expect(stats!.gatherRetried).toBe(stats!.slices + 1);
});
