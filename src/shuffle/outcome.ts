/** A task's outcome as data: errors keep their class name and message across threads. */
import { BadRecordError } from '../errors.js';

/** What a worker task returns. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; name: string; message: string; stack?: string };

/** Runs `fn`, returning its value or its error as an Outcome. */
export async function settle<T>(fn: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    return { ok: false, name: err.name, message: err.message, stack: err.stack };
  }
}

/** The value of an Outcome, or its error rebuilt (a BadRecordError stays one). */
export function unwrap<T>(outcome: Outcome<T>): T {
  if (outcome.ok) return outcome.value;
  const err = outcome.name === 'BadRecordError' ? new BadRecordError(outcome.message) : new Error(outcome.message);
  if (outcome.name !== 'BadRecordError') err.name = outcome.name;
  if (outcome.stack) err.stack = outcome.stack;
  throw err;
}
