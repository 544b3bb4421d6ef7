/** Growing typed arrays, for the worker-side tables and row buffers. */

/** A copy of `a` with room for at least `n` elements (doubling). */
export function grown<T extends Int32Array | Uint8Array | Float64Array>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(Math.max(2 * a.length, n));
  b.set(a);
  return b;
}
