/**
 * Decimal text read from bytes exactly, for the fast paths: with at most 15 digits the digits
 * as an integer `m` and 10^decimals are both exact doubles, so `m / 10^decimals` is the
 * correctly rounded `Number(text)`.
 */
const POW10 = Array.from({ length: 16 }, (_, i) => 10 ** i);

/** The value of `±m · 10^-decimals` read from `digits` digits; NaN past 15 digits (for the general path to read). */
export function exactDecimal(m: number, digits: number, decimals: number, negative: boolean): number {
  if (digits > 15) return NaN;
  const v = decimals > 0 ? m / POW10[decimals]! : m;
  return negative ? -v : v;
}
