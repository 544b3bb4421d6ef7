/**
 * The order of a run whose keys are numeric columns, by an LSD radix sort (in a gather worker):
 * byte by byte from the least significant word — the ordinal's, then the last column's — to the
 * first column's, each pass stable, so records end in (column 0, column 1, …, ordinal) order.
 * A pass whose byte is the same for every record is skipped (ordinals' split words, the low
 * bytes of integer keys). On the partitions of a sort this is several times faster than a
 * comparison sort of the indexes, as it compares nothing.
 */

const BUCKETS = 256;

/**
 * A double's bits as two words whose unsigned order is the numbers' order (sign bit flipped for
 * a positive number, every bit for a negative one); -0 counts as 0, as the comparison does.
 * `flip` inverts them all, for a descending column.
 */
function sortableWords(column: Float64Array, flip: boolean): [lo: Uint32Array, hi: Uint32Array] {
  const n = column.length;
  const scratch = new Float64Array(1);
  const bits = new Uint32Array(scratch.buffer);
  const lo = new Uint32Array(n);
  const hi = new Uint32Array(n);
  const invert = flip ? 0xffffffff : 0;
  for (let i = 0; i < n; i++) {
    const v = column[i]!;
    scratch[0] = v === 0 ? 0 : v;
    const h = bits[1]!;
    const negative = h >>> 31 === 1;
    lo[i] = ((negative ? ~bits[0]! : bits[0]!) ^ invert) >>> 0;
    hi[i] = ((negative ? ~h : h ^ 0x80000000) ^ invert) >>> 0;
  }
  return [lo, hi];
}

/** Ordinals (integers below 2^53) as their low and high 32-bit words. */
function ordinalWords(ords: Float64Array): [lo: Uint32Array, hi: Uint32Array] {
  const n = ords.length;
  const lo = new Uint32Array(n);
  const hi = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const o = ords[i]!;
    const l = o >>> 0; // ToUint32: o mod 2^32, exact for integers below 2^53
    lo[i] = l;
    hi[i] = (o - l) / 4294967296;
  }
  return [lo, hi];
}

/** The record indexes in ordinal order: the blocks by their first ordinal when that is ascending throughout (the usual case), else undefined. */
function ordinalOrder(ords: Float64Array, blockStarts: readonly number[]): Uint32Array | undefined {
  const n = ords.length;
  const blocks = blockStarts.map((start, b) => [start, blockStarts[b + 1] ?? n] as const).sort((a, b) => ords[a[0]]! - ords[b[0]]!);
  const order = new Uint32Array(n);
  let k = 0;
  let last = -1;
  for (const [start, end] of blocks)
    for (let i = start; i < end; i++) {
      if (ords[i]! <= last) return undefined;
      last = ords[i]!;
      order[k++] = i;
    }
  return order;
}

/**
 * The record indexes sorted by the columns (each ascending, or all descending), ties by ordinal
 * ascending. `blockStarts`: where each stored block begins (its ordinals usually ascend, so the
 * ordinal passes can usually be skipped: LSD passes are stable).
 */
export function radixOrder(
  columns: readonly Float64Array[],
  ords: Float64Array,
  descending: boolean,
  blockStarts: readonly number[] = [0],
): Uint32Array {
  const n = ords.length;
  const inOrder = ordinalOrder(ords, blockStarts);
  let order: Uint32Array = inOrder ?? new Uint32Array(n);
  const words: Uint32Array[] = [];
  if (inOrder === undefined) {
    for (let i = 0; i < n; i++) order[i] = i;
    words.push(...ordinalWords(ords));
  }
  if (n < 2) return order;
  for (let c = columns.length - 1; c >= 0; c--) words.push(...sortableWords(columns[c]!, descending));
  let spare: Uint32Array = new Uint32Array(n);
  let key = new Uint32Array(n);
  let spareKey = new Uint32Array(n);
  const counts = new Uint32Array(4 * BUCKETS);
  for (const word of words) {
    // the byte counts do not depend on the order: one sequential pass gives all four
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const w = word[i]!;
      counts[w & 0xff]!++;
      counts[BUCKETS + ((w >>> 8) & 0xff)]!++;
      counts[2 * BUCKETS + ((w >>> 16) & 0xff)]!++;
      counts[3 * BUCKETS + (w >>> 24)]!++;
    }
    const w0 = word[0]!;
    const passes = [0, 1, 2, 3].filter((b) => counts[b * BUCKETS + ((w0 >>> (8 * b)) & 0xff)] !== n); // a byte all records share orders nothing
    if (passes.length === 0) continue;
    for (let i = 0; i < n; i++) key[i] = word[order[i]!]!; // the keys in the current order, moved along with it
    for (const b of passes) {
      const base = b * BUCKETS;
      const shift = 8 * b;
      let sum = 0;
      for (let d = base; d < base + BUCKETS; d++) {
        const c = counts[d]!;
        counts[d] = sum;
        sum += c;
      }
      for (let i = 0; i < n; i++) {
        const k = key[i]!;
        const at = counts[base + ((k >>> shift) & 0xff)]!++;
        spare[at] = order[i]!;
        spareKey[at] = k;
      }
      [order, spare] = [spare, order];
      [key, spareKey] = [spareKey, key];
    }
  }
  return order;
}
