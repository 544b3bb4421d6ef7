/**
 * Exact sums that two doubles cannot hold, for the sum and mean ops (ops.ts). A group's sum is a
 * pair `a + c` kept exact by checking each addition; when an addition is not exact (values whose
 * bits span more than two doubles, as 2^53 with 5e-324, or a running sum past Number.MAX_VALUE)
 * the group moves here: `a` becomes an index into this table, `c` NaN, and the sum a BigInt
 * count of 2^-1074, the unit every finite double is a whole multiple of.
 */

const UNIT_BITS = 1074;
/** 2^64: multiplying by it is exact for the doubles it is applied to below. */
const TWO64 = 2 ** 64;

/** `x` (finite) as a whole number of 2^-1074. */
export function units(x: number): bigint {
  if (!Number.isFinite(x)) throw new RangeError(`an exact sum takes finite numbers, got ${x}`); // the ops check values first
  let m = x;
  let shift = 0;
  for (; !Number.isInteger(m); shift += 64) m *= TWO64; // a fraction is below 2^52: no overflow
  const n = BigInt(m);
  return shift <= UNIT_BITS ? n << BigInt(UNIT_BITS - shift) : n >> BigInt(shift - UNIT_BITS); // x is a multiple of 2^-1074: the bits shifted out are 0
}

/** The double nearest `u` · 2^-1074 (ties to even; ±Infinity past Number.MAX_VALUE). */
export function nearest(u: bigint): number {
  const negative = u < 0n;
  const a = negative ? -u : u;
  const bits = a.toString(2).length;
  let v: number;
  if (bits <= 60) {
    v = Number(a) * 2 ** -UNIT_BITS; // Number() rounds to nearest; a power of two scales exactly (a subnormal result: a itself is below 2^53)
  } else {
    // 60 bits and a sticky bit for those below: Number() then rounds as the whole would
    const k = BigInt(bits - 60);
    const sticky = a & ((1n << k) - 1n) ? 1n : 0n;
    v = Number(((a >> k) << 1n) | sticky) * 2 ** (bits - 61 - UNIT_BITS);
  }
  return negative ? -v : v;
}

/** The exact sums of the groups of one `Groups` or `ByteGroups` that left the two-double form. */
export class ExactSums {
  #sums: bigint[] = [];

  /**
   * The group's sum `t + c` (two doubles; or, when `c` is NaN, table index `t`) plus `x`; the
   * group's index here (its `a` from now on, with `c` NaN).
   */
  add(t: number, c: number, x: number): number {
    if (c !== c) {
      this.#sums[t]! += units(x);
      return t;
    }
    return this.#sums.push(units(t) + units(c) + units(x)) - 1;
  }

  /** Sum `i` rounded once. */
  value(i: number): number {
    return nearest(this.#sums[i]!);
  }

  /**
   * Sum `i` as a partial state: doubles whose exact sum it is (merge adds them all) — or, past
   * Number.MAX_VALUE, where that could take any number of doubles, its units as decimal text.
   */
  parts(i: number): (number | string)[] {
    const sum = this.#sums[i]!;
    if (!Number.isFinite(nearest(sum))) return [sum.toString()];
    const out: number[] = [];
    for (let rest = sum; rest !== 0n || out.length === 0; rest -= units(out.at(-1)!)) out.push(nearest(rest));
    return out;
  }

  /** As `add`, for a part given as decimal text of units (see `parts`). */
  addText(t: number, c: number, text: string): number {
    const u = BigInt(text);
    if (c !== c) {
      this.#sums[t]! += u;
      return t;
    }
    return this.#sums.push(units(t) + units(c) + u) - 1;
  }

  /** Forgets every sum (the groups were drained). */
  clear(): void {
    this.#sums = [];
  }
}
