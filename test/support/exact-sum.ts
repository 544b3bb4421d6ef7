/** The exact sum of doubles, rounded once to the nearest double (ties to even): BigInt arithmetic, no floating point. */

const SCALE = 1074n; // every finite double is an integer multiple of 2^-1074

/** `x` (finite) as an integer times 2^-1074. */
function scaled(x: number): bigint {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const exponent = (hi >>> 20) & 0x7ff;
  const mantissa = (BigInt(hi & 0xfffff) << 32n) | BigInt(view.getUint32(4));
  const m = exponent === 0 ? mantissa : mantissa | (1n << 52n);
  const v = m << BigInt(Math.max(exponent - 1, 0));
  return hi >>> 31 ? -v : v;
}

/** The double nearest `s` · 2^-1074 (ties to even; subnormal results exact, overflow Infinity). */
function nearest(s: bigint): number {
  if (s === 0n) return 0;
  const negative = s < 0n;
  const a = negative ? -s : s;
  const shift = Math.max(a.toString(2).length - 53, 0);
  let q = a >> BigInt(shift);
  if (shift > 0) {
    const rest = a - (q << BigInt(shift));
    const half = 1n << BigInt(shift - 1);
    if (rest > half || (rest === half && (q & 1n) === 1n)) q += 1n;
  }
  // q < 2^54: exact as a Number; scaling by a power of two is exact (in two steps below 2^-1022)
  const e = shift - Number(SCALE);
  const v = e < -1022 ? Number(q) * 2 ** (e + 600) * 2 ** -600 : Number(q) * 2 ** e;
  return negative ? -v : v;
}

/** The exact sum of `xs`, correctly rounded. */
export const exactSum = (xs: readonly number[]): number => nearest(xs.reduce((s, x) => s + scaled(x), 0n));
