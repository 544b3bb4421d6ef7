/**
 * The reference a join is checked against: a nested loop over both inputs, written from SQL's
 * rules and nothing of the engine's (no hash, no partitions): two records match when both keys
 * are present (neither null nor undefined) and `===`; an unmatched record of a kept side gets
 * a row of its own with null for the other side.
 */
import type { JoinHow, JoinRow } from '../../src/index.js';

type KeyOf = (record: never) => unknown;

/** Every row of the join, in nested-loop order. */
export function nestedLoopJoin<L, R>(left: L[], right: R[], keyOfLeft: KeyOf, keyOfRight: KeyOf, how: JoinHow): JoinRow<L, R>[] {
  const keepLeft = how === 'left' || how === 'outer';
  const keepRight = how === 'right' || how === 'outer';
  const rows: JoinRow<L, R>[] = [];
  const rightMatched = new Array<boolean>(right.length).fill(false);
  const present = (k: unknown) => k !== null && k !== undefined;
  for (const l of left) {
    const kl = keyOfLeft(l as never);
    let matched = false;
    right.forEach((r, j) => {
      const kr = keyOfRight(r as never);
      if (present(kl) && present(kr) && kl === kr) {
        rows.push({ key: kl as string | number, left: l, right: r });
        matched = rightMatched[j] = true;
      }
    });
    if (!matched && keepLeft) rows.push({ key: present(kl) ? (kl as string | number) : null, left: l, right: null });
  }
  if (keepRight)
    right.forEach((r, j) => {
      const kr = keyOfRight(r as never);
      if (!rightMatched[j]) rows.push({ key: present(kr) ? (kr as string | number) : null, left: null, right: r });
    });
  return rows;
}

/** Rows as a sorted list of their JSON: equal lists are equal multisets of rows, whatever the order. */
export function canonical(rows: Iterable<unknown>): string[] {
  return [...rows].map((r) => JSON.stringify(r)).sort();
}
