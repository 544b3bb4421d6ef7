/**
 * The partitioner: which partition a record's key goes to.
 *
 * `partitionOf(key, P) = fnv1a32(text) mod P`, where `text` is the key itself for a string
 * and `JSON.stringify(key)` otherwise, hashed over its UTF-16 code units. It depends on
 * nothing but the key and P, so a key lands in the same partition in every thread,
 * process, run and worker count. (A number and its decimal string share a partition; they
 * are still different groups.)
 */

/** FNV-1a, 32 bits, over UTF-16 code units. */
export function hashKey(key: unknown): number {
  const text = typeof key === 'string' ? key : JSON.stringify(key);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The partition of `key` among `partitions`. */
export function partitionOf(key: unknown, partitions: number): number {
  return hashKey(key) % partitions;
}
