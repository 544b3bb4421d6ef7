/** Single-thread references the shuffle is checked against. */
import { partitionOf } from '../../src/index.js';

/** Records by partition, each partition's records sorted by id. */
export function partitionReference<T extends { id: number }>(records: T[], keyOf: (r: T) => string | number, P: number): T[][] {
  const parts: T[][] = Array.from({ length: P }, () => []);
  for (const r of records) parts[partitionOf(keyOf(r), P)]!.push(r);
  return parts.map((p) => p.sort((a, b) => a.id - b.id));
}

/** The same records as the test generator module (test/fixtures/shuffle-modules.mjs). */
export function fixtureRecords(start: number, end: number): { id: number; key: string; amount: number; tag: string }[] {
  const TAGS = ['a', 'b', 'c'];
  const out = [];
  for (let i = start; i < end; i++) out.push({ id: i, key: `k${(i * 7) % 50}`, amount: (i % 13) - 3, tag: TAGS[i % 3]! });
  return out;
}
