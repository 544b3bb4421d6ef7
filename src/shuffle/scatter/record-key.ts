/** A record's key, in a scatter worker: how it is read, and when it is not a usable key (docs/types.md). */
import { describe } from '../../errors.js';
import { describeField, fieldReader } from '../input/fields.js';
import { loadRef } from '../runtime/modules.js';
import type { KeySpec } from '../protocol.js';

/** Makes the key function of a spec. */
export async function keyFunction(spec: KeySpec): Promise<(record: unknown) => unknown> {
  return 'field' in spec ? fieldReader(spec.field) : loadRef<(record: unknown) => unknown>(spec);
}

/** The bad-record message of a key function that threw `e`. */
export const keyThrew = (e: unknown): string => `the key function threw: ${(e as Error)?.message ?? String(e)}`;

/** Why `key` makes a join side's record a bad one: as `keyMisfit`, but a keyless record (SQL's NULL) is kept, matching nothing. */
export const joinKeyMisfit = (key: unknown, spec: KeySpec): string | undefined => (key == null ? undefined : keyMisfit(key, spec));

/**
 * Why a string holding an unpaired surrogate (JSON's `"\ud83d"`, half an emoji) is no key: it
 * is not Unicode text, and stored as UTF-8 it would become U+FFFD, one key with every other such.
 */
export const unpaired = (s: string) => `${describe(s)} holds an unpaired surrogate (not Unicode text: it has no UTF-8 form to store)`;

/** What a key spec is called in a bad record's message. */
export const keyName = (spec: KeySpec) => ('field' in spec ? `key field ${JSON.stringify(spec.field)}` : 'the key function');

/**
 * Why `key` is not a usable key, or undefined: a key is a well-formed string or a finite
 * number, exact (an integer beyond 2^53 may have been rounded by JSON.parse), of the declared type.
 */
export function keyMisfit(key: unknown, spec: KeySpec): string | undefined {
  const what = keyName(spec);
  const type = 'field' in spec ? spec.type : undefined;
  if (typeof key === 'string') {
    if (type === 'number') return `${what}: types declares it a number, got ${describe(key)}`;
    return key.isWellFormed() ? undefined : `${what}: ${unpaired(key)}`;
  }
  if (typeof key === 'number' && key - key === 0) {
    if (Math.abs(key) > Number.MAX_SAFE_INTEGER)
      return `${what}: ${key} is beyond ±(2^53 − 1), where a number may have been rounded (JSON.parse rounds such integers); quote it in the input to read it as a string`;
    return type === 'string' ? `${what}: types declares it a string, got ${describe(key)}` : undefined;
  }
  const got = describeField(key);
  return `${'field' in spec ? `record has no usable key: ${what}` : `${what} returned no usable key`}: expected a string or a finite number, got ${got}`;
}
