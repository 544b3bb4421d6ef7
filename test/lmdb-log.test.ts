/** The Lmdb write log's entry format: what a compaction reads back is what the calls appended, per id, in order. */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { Compaction, packRecords } from '../src/stores/lmdb/log.js';

type Call = [string, Uint8Array][];

/** Ids with multi-byte and astral characters (UTF-16 length ≠ UTF-8 length), and repeats. */
const idArb = fc.oneof(fc.constantFrom('', 'a', 'k1', 'é', '𝄞x', 'ключ'), fc.string({ unit: 'binary', maxLength: 5 }));
const callArb: fc.Arbitrary<Call> = fc.array(fc.tuple(idArb, fc.uint8Array({ maxLength: 12 })), { maxLength: 6 });
/** Runs of calls over the same ids in the same order (an entry's ids are then read once for the run). */
const runArb: fc.Arbitrary<Call[]> = fc
  .tuple(callArb, fc.integer({ min: 1, max: 4 }))
  .chain(([call, n]) =>
    fc
      .array(fc.tuple(...call.map(() => fc.uint8Array({ maxLength: 12 }))), { minLength: n, maxLength: n })
      .map((rows) => rows.map((values) => call.map(([id], i) => [id, values[i]!] as [string, Uint8Array]))),
  );

function model(calls: Call[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const call of calls) for (const [id, v] of call) if (v.length > 0) out.set(id, (out.get(id) ?? '') + Buffer.from(v).toString('hex'));
  return out;
}

describe('Lmdb write log', () => {
  it("compacts packed calls into each id's bytes in append order, into a fresh or a shared buffer", () => {
    fc.assert(
      fc.property(fc.array(runArb, { maxLength: 5 }), (runs) => {
        const calls = runs.flat();
        const compaction = new Compaction();
        for (const call of calls) compaction.add(packRecords(call));
        const want = model(calls);
        const ids = [...compaction.ids()];
        expect(ids.sort()).toEqual([...want.keys()].sort());
        const scratch = Buffer.alloc(compaction.largest);
        for (const id of ids) {
          expect(Buffer.from(compaction.chunk(id)!).toString('hex')).toBe(want.get(id));
          expect(Buffer.from(compaction.chunk(id, scratch)!).toString('hex')).toBe(want.get(id));
        }
        expect(compaction.chunk('never appended')).toBeUndefined();
      }),
      { numRuns: 1000 },
    );
  });
});
