/** Checks of option values, in the calling thread, before any work: each error names the option. */
import { describe } from '../errors.js';

/** Throws naming `arg` when `object` has a property not in `known`. */
export function checkNames(object: object, known: readonly string[], arg: string): void {
  const unknown = Object.keys(object).filter((k) => !known.includes(k));
  if (unknown.length > 0)
    throw new RangeError(
      `${arg}: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k)).join(', ')} (known: ${known.join(', ')})`,
    );
}

/** An integer option within [min, max]; `fallback` when it is not given (required when there is none). */
export function positiveInt(value: unknown, arg: string, fallback: number | undefined, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new RangeError(
      `${arg}: expected ${min === 0 ? 'a non-negative integer' : min === 1 ? 'a positive integer' : `an integer >= ${min}`}, got ${describe(value)}`,
    );
  }
  if (value > max) throw new RangeError(`${arg}: expected at most ${max.toLocaleString('en-US')}, got ${value}`);
  return value;
}
