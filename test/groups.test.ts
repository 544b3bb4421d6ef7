/**
 * Per-key groups (map-side combine and gather merge): records added per split,
 * handed over in blocks at random points and merged per partition give each group exactly the
 * reference fold, whatever the plan.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { emptyBlock, groupsOf, UNPAIRED_KEY, type StateBlock } from '../src/shuffle/groupby/groups.js';
import { partitionOf } from '../src/shuffle/partitioner.js';
import { loadReducers, ordinal, type PlannedAgg } from '../src/shuffle/groupby/aggregations.js';

interface Rec {
  k: string | number;
  a: number;
  t: string;
}

const recordArb: fc.Arbitrary<Rec> = fc.record({
  k: fc.oneof(fc.constantFrom('x', 'y', 'z', 'é'), fc.integer({ min: 0, max: 5 })),
  a: fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.double({ min: -1e6, max: 1e6, noNaN: true })),
  t: fc.constantFrom('alpha', 'beta', 'gamma', 'Δ'),
});
const numeric: PlannedAgg[] = [
  { name: 'n', op: 'count' },
  { name: 'sum', op: 'sum', field: 'a' },
  { name: 'lo', op: 'min', field: 'a' },
  { name: 'hi', op: 'max', field: 'a' },
  { name: 'avg', op: 'mean', field: 'a' },
  { name: 'tmin', op: 'min', field: 't', kind: 'string' }, // strings order too (on a string field)
  { name: 'tmax', op: 'max', field: 't', kind: 'string' },
];
const ordered: PlannedAgg[] = [
  { name: 'first', op: 'first', field: 't' },
  { name: 'last', op: 'last', field: 'a' },
  { name: 'all', op: 'collect', field: 'a' },
];
/** Random non-empty plans: a subset of the numeric aggregations in random order, some with the ordered ones. */
const planArb = fc
  .tuple(fc.shuffledSubarray(numeric, { minLength: 1 }), fc.boolean())
  .map(([p, withOrdered]) => (withOrdered ? [...p, ...ordered] : p));

/** The reference: each key's values folded in input order. */
function fold(plan: PlannedAgg[], records: Rec[]): Map<string | number, unknown[]> {
  const byKey = new Map<string | number, Rec[]>();
  for (const r of records) byKey.set(r.k, [...(byKey.get(r.k) ?? []), r]);
  const value = (a: PlannedAgg, r: Rec) => r[a.field as 'a' | 't'];
  return new Map(
    [...byKey].map(([k, rs]) => [
      k,
      plan.map((a) => {
        const vs = rs.map((r) => value(a, r));
        switch (a.op) {
          case 'count':
            return rs.length;
          case 'sum':
            return (vs as number[]).reduce((x, y) => x + y, 0);
          case 'mean':
            return (vs as number[]).reduce((x, y) => x + y, 0) / vs.length;
          case 'min':
            return vs.reduce((x, y) => (y < x ? y : x));
          case 'max':
            return vs.reduce((x, y) => (y > x ? y : x));
          case 'first':
            return vs[0];
          case 'last':
            return vs[vs.length - 1];
          case 'collect':
            return vs;
          default:
            throw new Error(a.op);
        }
      }),
    ]),
  );
}

describe('groups', () => {
  it('adding the records of each split, draining at random points (or passing them through from one on) and merging per partition equals the reference fold', async () => {
    await fc.assert(
      fc.asyncProperty(
        planArb,
        fc.array(recordArb, { maxLength: 120 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.option(fc.nat({ max: 120 })),
        async (plan, records, splits, P, cuts, passFrom) => {
          const reducers = await loadReducers(plan);
          const blocks: StateBlock[][] = Array.from({ length: P }, () => []);
          const drainInto = (g: ReturnType<typeof groupsOf>) => g.drain(P).forEach((b, p) => b && blocks[p]!.push(b));
          // splits: contiguous ranges (as the shuffle cuts its input), each with its own groups
          const size = Math.ceil(records.length / splits);
          for (let s = 0; s < splits; s++) {
            const g = groupsOf(plan, reducers);
            const cutAt = new Set(cuts.map((c) => c % (size + 1)));
            // from `passFrom` on, records pass through (the session's switch when combining merges little)
            const passed: (StateBlock | undefined)[] = [];
            records.slice(s * size, (s + 1) * size).forEach((r, pos) => {
              if (passFrom !== null && pos >= passFrom) {
                if (pos === passFrom) drainInto(g);
                const p = partitionOf(r.k, P);
                expect(g.pass(r.k, r, ordinal(s, pos), (passed[p] ??= emptyBlock(plan.length)))).toBe(-1);
                expect(g.size).toBe(0);
                return;
              }
              if (cutAt.has(pos)) drainInto(g);
              g.add(r.k, r, ordinal(s, pos));
            });
            passed.forEach((b, p) => b && blocks[p]!.push(b));
            drainInto(g);
            expect(g.size).toBe(0);
          }
          const got = new Map<string | number, unknown[]>();
          for (let p = 0; p < P; p++) {
            const g = groupsOf(plan, reducers);
            for (const b of blocks[p]!) g.merge(b);
            const { keys, columns } = g.result();
            keys.forEach((k, i) =>
              got.set(
                k,
                columns.map((c) => c[i]),
              ),
            );
          }
          const want = fold(plan, records);
          expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
          for (const [k, values] of want) {
            plan.forEach((a, j) => {
              const v = got.get(k)![j];
              if (a.op === 'sum' || a.op === 'mean') expect(v as number).toBeCloseTo(values[j] as number, 6);
              else expect(v).toEqual(values[j]);
            });
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('collect keeps input order when a session reads splits 0, 2, 5… and the partitions merge their blocks in any order (fast-check)', () => {
    const plan: PlannedAgg[] = [{ name: 'c', op: 'collect', field: 'v' }];
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.constantFrom('a', 'b'), { maxLength: 12 }), { minLength: 1, maxLength: 8 }), // each split's keys
        fc.array(fc.nat(2), { minLength: 8, maxLength: 8 }), // which of 3 sessions reads each split
        fc.array(fc.nat(), { maxLength: 6 }), // where sessions drain
        fc.array(fc.nat(), { minLength: 40, maxLength: 40 }), // the order blocks are merged in
        (splits, readers, cuts, order) => {
          const blocks: StateBlock[] = [];
          for (let session = 0; session < 3; session++) {
            const g = groupsOf(plan, [undefined]);
            let n = 0;
            splits.forEach((keys, split) => {
              if (readers[split] !== session) return;
              keys.forEach((k, pos) => {
                if (cuts.includes(n++)) g.drain(1).forEach((b) => b && blocks.push(b));
                expect(g.add(k, { v: `${split}.${pos}` }, ordinal(split, pos))).toBe(-1);
              });
            });
            g.drain(1).forEach((b) => b && blocks.push(b));
          }
          const merged = groupsOf(plan, [undefined]);
          const shuffled = blocks.map((b, i) => [order[i % order.length]! + i / 100, b] as const).sort((x, y) => x[0] - y[0]);
          for (const [, b] of shuffled) merged.merge(b);
          const { keys, columns } = merged.result();
          for (const key of ['a', 'b']) {
            const want = splits.flatMap((ks, split) => ks.flatMap((k, pos) => (k === key ? [`${split}.${pos}`] : [])));
            const i = keys.indexOf(key);
            expect(i < 0 ? [] : columns[0]![i]).toEqual(want);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('a new key with an unpaired surrogate is refused (add and pass hold nothing of it); a whole surrogate pair is a key', () => {
    const g = groupsOf([{ name: 'n', op: 'count' }], [undefined]);
    for (const key of ['\ud83d', 'x\udc00', '\ud83e']) {
      expect(g.add(key, {}, 0)).toBe(UNPAIRED_KEY);
      expect(g.pass(key, {}, 0, emptyBlock(1))).toBe(UNPAIRED_KEY);
    }
    expect(g.size).toBe(0);
    expect(g.add('\ud83d\ude00', {}, 0)).toBe(-1);
    expect(g.add('\ufffd', {}, 0)).toBe(-1);
    expect(g.result().keys).toEqual(['\ud83d\ude00', '\ufffd']);
  });

  it('a value first, last or collect would keep that MessagePack cannot store is refused, in add and pass alike', () => {
    for (const op of ['first', 'last', 'collect'] as const) {
      const g = groupsOf(
        [
          { name: 'n', op: 'count' },
          { name: 'x', op, field: 'v' },
        ],
        [undefined, undefined],
      );
      for (const v of [Symbol('s'), 2n ** 70n, { deep: [Symbol('t')] }]) {
        expect(g.add('k', { v }, 0)).toBe(1);
        expect(g.pass('k', { v }, 0, emptyBlock(2))).toBe(1);
      }
      expect(g.size).toBe(0);
      for (const v of [1n, { a: [1, 'x'] }, null, undefined, 'x']) expect(g.add('k', { v }, 0)).toBe(-1);
    }
  });

  it('the partial states that cross threads: numbers, [sum, n] for a mean, [ordinal, value] for first and last, segments for collect', () => {
    const g = groupsOf([...numeric, ...ordered], []);
    g.add('k', { a: 2, t: 'x' }, 0);
    g.add('k', { a: 5, t: 'y' }, 1);
    expect(g.drain(1)[0]).toEqual([['k'], [2], [7], [2], [5], [[7, 2]], ['x'], ['y'], [[0, 'x']], [[1, 5]], [[[0, [2, 5], 1]]]]); // collect: [first ordinal, values, last ordinal]
  });

  it('a record whose value does not fit adds nothing and names the first aggregation it misfits', () => {
    const plan: PlannedAgg[] = [
      { name: 'n', op: 'count' },
      ...numeric.slice(1, 3),
      { name: 'tmin', op: 'min', field: 't', kind: 'string' },
    ];
    const g = groupsOf(plan, []);
    expect(g.add('k', { a: 'x', t: 'x' }, 0)).toBe(1); // sum
    expect(g.add('k', { a: 1, t: 2 }, 0)).toBe(3); // min of a string field
    expect(g.size).toBe(0);
    expect(g.add('k', { a: 1, t: 'x' }, 0)).toBe(-1);
    expect(g.result()).toEqual({ keys: ['k'], columns: [[1], [1], [1], ['x']] });
  });
});
