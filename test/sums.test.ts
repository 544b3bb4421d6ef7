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
import { exactSum } from './support/exact-sum.js';

it('the reference rounds the exact sum', () => {
  expect(exactSum([0.1, 0.2])).toBe(0.30000000000000004); // a tie, to even
  expect(exactSum([1e16, 1, -1e16])).toBe(1);
  expect(exactSum([0.1, 0.1, 0.1])).toBe(0.30000000000000004);
  expect(exactSum([1e300, -1e300, 5e-324])).toBe(5e-324);
  expect(exactSum([-0.5, 0.25])).toBe(-0.25);
});

/** Values as data has them: money-like decimals, large ones that cancel, and any double of moderate size. */
const value = fc.oneof(
  fc.integer({ min: -1e9, max: 1e9 }).chain((m) => fc.integer({ min: 0, max: 4 }).map((d) => m / 10 ** d)),
  fc.constantFrom(1e16, -1e16, 2 ** 53, -(2 ** 53), 0.1, 0.7, 1e-9),
  fc.double({ min: -1e12, max: 1e12, noNaN: true, noDefaultInfinity: true }),
);
const rows = fc.array(fc.tuple(fc.integer({ min: 0, max: 4 }), value), { minLength: 1, maxLength: 300 });
/** A CSV integer beyond 2^53 − 1 is not read as a number (docs/types.md): thirds of them instead. */
const csvRows = rows.map((data) =>
  data.map(([k, v]): [number, number] => [k, Number.isInteger(v) && Math.abs(v) > Number.MAX_SAFE_INTEGER ? v / 3 : v]),
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
      { numRuns: 12 },
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
          { numRuns: 10 },
        );
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
    180_000,
  ); // 20 jobs, each starting its threads: ~10 s alone, over 60 s on a loaded CI machine

  it('a naive running sum would differ here: 1e16, 1, −1e16 sum to 1', async () => {
    const records = [1e16, 1, -1e16].map((amount) => ({ key: 'k', amount }));
    for (const c of configs) expect((await grouped({ records }, c.workers, c.splits, c.partitions)).get('k')!.sum).toBe(1);
  });
});
