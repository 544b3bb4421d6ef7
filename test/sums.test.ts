/**
 * Sums and means are the exact sum of the values, rounded once: the same digits for any number
 * of workers, splits and partitions, on every path (records grouped as objects, CSV and NDJSON
 * rows read as bytes), against a BigInt reference (test/support/exact-sum.ts).
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { groupBy, type ShuffleInput } from '../src/index.js';
import { ExactSums, nearest, units } from '../src/shuffle/groupby/exact.js';
import { exactSum } from './support/exact-sum.js';

it('the reference rounds the exact sum', () => {
  expect(exactSum([0.1, 0.2])).toBe(0.30000000000000004); // a tie, to even
  expect(exactSum([1e16, 1, -1e16])).toBe(1);
  expect(exactSum([0.1, 0.1, 0.1])).toBe(0.30000000000000004);
  expect(exactSum([1e300, -1e300, 5e-324])).toBe(5e-324);
  expect(exactSum([-0.5, 0.25])).toBe(-0.25);
  expect(exactSum([5e-324, 5e-324])).toBe(1e-323); // a subnormal result
  expect(exactSum([1.7e308, 1.7e308])).toBe(Infinity); // past Number.MAX_VALUE
  expect(exactSum([1.7e308, 1.7e308, -1.7e308])).toBe(1.7e308);
});

/** Any finite double: the whole range, subnormals included. */
const anyDouble = fc.double({ noNaN: true, noDefaultInfinity: true });

describe('the exact table (groupby/exact.ts), against the reference', () => {
  it('a double in units of 2^-1074 and back is itself', () => {
    fc.assert(
      fc.property(anyDouble, (x) => expect(nearest(units(x))).toBe(x === 0 ? 0 : x)),
      { numRuns: 2000 },
    );
  });

  it('a sum of any doubles rounds as the reference, and its parts sum to it exactly', () => {
    fc.assert(
      fc.property(fc.array(anyDouble, { minLength: 1, maxLength: 20 }), (xs) => {
        const table = new ExactSums();
        const i = xs.slice(1).reduce((i, x) => table.add(i, NaN, x), table.add(0, 0, xs[0]!));
        expect(table.value(i)).toBe(exactSum([0, ...xs]));
        // the parts: doubles, or past Number.MAX_VALUE one decimal text of units
        const parts = table.parts(i);
        const exact = xs.reduce((u, x) => u + units(x), 0n);
        if (typeof parts[0] === 'string') expect(parts).toEqual([exact.toString()]);
        else expect(parts.reduce<bigint>((u, p) => u + units(p as number), 0n)).toBe(exact);
        // a table that takes those parts holds the same sum
        const again = new ExactSums();
        const j = parts.reduce<number>(
          (j, p) => (typeof p === 'string' ? again.addText(j, NaN, p) : again.add(j, NaN, p)),
          again.add(0, 0, 0),
        );
        expect(again.value(j)).toBe(table.value(i));
      }),
      { numRuns: 1000 },
    );
  });
});

/** Values as data has them: money-like decimals, large ones that cancel, and any double of moderate size. */
const value = fc.oneof(
  fc.integer({ min: -1e9, max: 1e9 }).chain((m) => fc.integer({ min: 0, max: 4 }).map((d) => m / 10 ** d)),
  fc.constantFrom(1e16, -1e16, 2 ** 53, -(2 ** 53), 0.1, 0.7, 1e-9),
  fc.double({ min: -1e12, max: 1e12, noNaN: true, noDefaultInfinity: true }),
  // bits spanning more than two doubles (2^53 with 5e-324), sums past Number.MAX_VALUE
  fc.double({ min: -1e-300, max: 1e-300, noNaN: true }),
  anyDouble,
);
const rows = fc.array(fc.tuple(fc.integer({ min: 0, max: 4 }), value), { minLength: 1, maxLength: 300 });
/** A CSV integer beyond 2^53 − 1 is not read as a number (docs/types.md): such values divided by 3 until their text is not one. */
const csvRows = rows.map((data) =>
  data.map(([k, v]): [number, number] => {
    while (Number.isInteger(v) && Math.abs(v) > Number.MAX_SAFE_INTEGER && !String(v).includes('e')) v /= 3;
    return [k, v];
  }),
);

/** The reference rows: per key, the exact sum rounded and the mean from it. */
function reference(data: [number, number][]): Map<string, { n: number; sum: number; mean: number }> {
  const byKey = new Map<string, number[]>();
  for (const [k, v] of data) (byKey.get(`k${k}`) ?? byKey.set(`k${k}`, []).get(`k${k}`)!).push(v);
  return new Map([...byKey].map(([k, vs]) => [k, { n: vs.length, sum: exactSum(vs), mean: exactSum(vs) / vs.length }]));
}

/** `splits` is for file inputs (a records input is cut into batches as it is read). */
async function grouped(input: ShuffleInput, workers: number, splits: number, partitions: number) {
  const groups = await groupBy({
    input,
    key: 'key',
    workers,
    ...('records' in input ? {} : { splits }),
    partitions,
    aggregate: { n: { op: 'count' }, sum: { op: 'sum', field: 'amount' }, mean: { op: 'mean', field: 'amount' } },
  });
  return new Map([...groups].map(([k, r]) => [String(k), { n: r.n, sum: r.sum, mean: r.mean }]));
}

/** Each run is several jobs: longer than support/fast-check.ts allows, still ended before the test's timeout. */
const bounded = { interruptAfterTimeLimit: 150_000, markInterruptAsFailure: true };

const configs = [
  { workers: 1, splits: 1, partitions: 1 },
  { workers: 2, splits: 7, partitions: 5 },
];

describe('sum and mean: the exact sum rounded once, whatever the workers, splits and partitions', () => {
  it('records (grouped as objects)', async () => {
    await fc.assert(
      fc.asyncProperty(rows, async (data) => {
        const want = reference(data);
        const records = data.map(([k, v]) => ({ key: `k${k}`, amount: v }));
        for (const c of configs) expect(await grouped({ records }, c.workers, c.splits, c.partitions)).toEqual(want);
      }),
      { numRuns: 12, ...bounded },
    );
  }, 180_000);

  it.each(['csv', 'ndjson'] as const)(
    '%s files (read as bytes)',
    async (format) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'partd-sums-'));
      try {
        await fc.assert(
          fc.asyncProperty(format === 'csv' ? csvRows : rows, async (data) => {
            const file = path.join(dir, `data.${format}`);
            const lines = data.map(([k, v]) => (format === 'csv' ? `k${k},${v}` : JSON.stringify({ key: `k${k}`, amount: v })));
            fs.writeFileSync(file, (format === 'csv' ? 'key,amount\n' : '') + lines.join('\n') + '\n');
            const want = reference(data); // String(v) and JSON read back as v exactly
            const input = format === 'csv' ? { csv: file } : { ndjson: file };
            for (const c of configs) expect(await grouped(input, c.workers, c.splits, c.partitions)).toEqual(want);
          }),
          { numRuns: 10, ...bounded },
        );
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
    180_000,
  ); // 20 jobs, each starting its threads: ~10 s alone, over 60 s on a loaded CI machine

  it.each([
    [[-5e-324, -99999998.5, 2 ** 53]], // 2^53 − 99999998.5 is a tie: 5e-324 decides it
    [[1e308, 1e308, -1e308]], // past Number.MAX_VALUE on the way only
    [[1e308, 1e308]],
    [[5e-324, 1e-300, 5e-324, -1e-300]],
  ])('values whose sum two doubles cannot hold: %p', async (values) => {
    const records = values.map((amount) => ({ key: 'k0', amount }));
    const want = reference(values.map((v) => [0, v]));
    for (const c of configs) expect(await grouped({ records }, c.workers, c.splits, c.partitions)).toEqual(want);
  });

  it('partial sums past Number.MAX_VALUE that cancel, across batches, threads and partitions', async () => {
    // the first batch's sums pass MAX_VALUE (their states cross as text), the last batch's cancel them
    const amount = (i: number) =>
      i % 100 === 0 && i < 10_000 ? 1.7e308 : i % 100 === 0 && i >= 20_000 ? -1.7e308 : i % 13 === 0 ? 5e-324 : 0.1 * (i % 7);
    const data = Array.from({ length: 30_000 }, (_, i): [number, number] => [i % 3, amount(i)]);
    const records = data.map(([k, v]) => ({ key: `k${k}`, amount: v }));
    const want = reference(data);
    expect([...want.values()].every((r) => Number.isFinite(r.sum))).toBe(true);
    for (const [workers, partitions] of [
      [1, 1],
      [2, 1],
      [2, 5],
    ])
      expect(await grouped({ records }, workers!, 1, partitions!)).toEqual(want);
  });

  it('a naive running sum would differ here: 1e16, 1, −1e16 sum to 1', async () => {
    const records = [1e16, 1, -1e16].map((amount) => ({ key: 'k', amount }));
    for (const c of configs) expect((await grouped({ records }, c.workers, c.splits, c.partitions)).get('k')!.sum).toBe(1);
  });
});
