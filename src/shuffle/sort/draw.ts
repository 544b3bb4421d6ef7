/** Seeded draws for a sort's sample, in both threads (sample tasks, and the coordinator for a records input). */

/** mulberry32: a small seeded PRNG in [0, 1). */
export function prng(seed: number): () => number {
  let s = seed | 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The PRNG of split `index`'s sample: the same draws on every run. */
export const splitRandom = (index: number) => prng(Math.imul(index + 1, 0x9e3779b1));

/** `m` distinct positions of [0, n) drawn uniformly, in order (all of them when m ≥ n). */
export function drawPositions(n: number, m: number, random: () => number): number[] {
  if (m >= n) return Array.from({ length: n }, (_, i) => i);
  const drawn = new Set<number>();
  while (drawn.size < m) drawn.add(Math.floor(random() * n));
  return [...drawn].sort((a, b) => a - b);
}
