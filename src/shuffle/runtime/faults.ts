/**
 * Fault injection, for tests only: the options of `shuffle` or `groupBy` carry a list of faults
 * under the symbol `FAULTS` (not part of `ShuffleOptions`, and not settable from outside the
 * package's own modules), checked by plan() and sent with each task; a worker then fails at a
 * chosen point of a chosen attempt:
 *
 *   withFaults(options, [{ at: 'read', split: 3, attempt: 1, after: 5000, action: 'throw' }])
 *
 * `at`: `read` (in a scatter worker, as it reads the split's record at position `after`),
 * `commit` (in the coordinator, inside the transaction committing the split's part `after`,
 * after its writes, before it commits: only `throw` makes sense there), `gather` (partition
 * `partition`, after `after` batches), `sample` (a sort's sample task of the split, before it
 * reads). `attempt` counts the split's (or partition's) failures
 * plus one. `action`: `throw`, `exit` (the worker thread exits), `hang` (spins until
 * terminated, e.g. by `taskTimeout`), `oom` (allocates until the worker's `resourceLimits` kill it).
 */
import { describe } from '../../errors.js';

/** One injected fault. */
export interface Fault {
  at: 'read' | 'commit' | 'gather' | 'sample';
  split?: number;
  partition?: number;
  attempt: number;
  after?: number;
  action: 'throw' | 'exit' | 'hang' | 'oom';
}

/** The key of the internal option holding the faults: a symbol, so `checkNames` (string keys) never sees it and no JSON or CLI option can set it. */
export const FAULTS: unique symbol = Symbol('partd.faults');

/** Options carrying the internal fault option. */
export type WithFaults<O> = O & { [FAULTS]?: readonly Fault[] };

/** `options` with `faults` injected (a copy: the caller's object is left as it was). */
export function withFaults<O extends object>(options: O, faults: readonly Fault[]): WithFaults<O> {
  return { ...options, [FAULTS]: faults };
}

const AT = ['read', 'commit', 'gather', 'sample'];
const ACTIONS = ['throw', 'exit', 'hang', 'oom'];

/** The faults of a job's options (none unless `options[FAULTS]` is set), checked. */
export function faultsOf(options: object): Fault[] {
  const faults = (options as WithFaults<object>)[FAULTS];
  if (faults === undefined) return [];
  if (!Array.isArray(faults)) throw new TypeError(`options[FAULTS]: expected an array of faults, got ${describe(faults)}`);
  return faults.map((f: Fault, i) => {
    const ok =
      f !== null &&
      typeof f === 'object' &&
      AT.includes(f.at) &&
      ACTIONS.includes(f.action) &&
      Number.isSafeInteger(f.attempt) &&
      f.attempt >= 1;
    if (!ok) throw new TypeError(`options[FAULTS][${i}]: expected { at, attempt, action, split?, partition?, after? }, got ${describe(f)}`);
    return { ...f };
  });
}

/** A trigger that fires `fault` when called for the matching count. */
export function trigger(
  faults: readonly Fault[] | undefined,
  at: Fault['at'],
  where: { split?: number; partition?: number; attempt: number },
): (count: number) => void {
  const mine = (faults ?? []).filter(
    (f) =>
      f.at === at &&
      f.attempt === where.attempt &&
      (f.split === undefined || f.split === where.split) &&
      (f.partition === undefined || f.partition === where.partition),
  );
  if (mine.length === 0) return () => undefined;
  return (count) => {
    for (const f of mine) if ((f.after ?? 0) === count) act(f);
  };
}

function act(f: Fault): void {
  switch (f.action) {
    case 'throw':
      throw new Error(`injected fault (${f.at} ${f.after ?? 0}, attempt ${f.attempt})`);
    case 'exit':
      process.exit(70);
    case 'hang': {
      const until = Date.now() + 10 * 60_000;
      while (Date.now() < until); // terminate() interrupts this loop
      throw new Error('injected hang ended');
    }
    case 'oom': {
      const hog: number[][] = [];
      for (;;) hog.push(new Array(1 << 20).fill(1.5));
    }
  }
}
