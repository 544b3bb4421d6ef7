/** A record's sort key, in a scatter or sample worker: when it is not a usable one (docs/sort.md). */
import { describe } from '../../errors.js';
import { describeField } from '../input/fields.js';
import { keyMisfit, keyName, unpaired } from '../scatter/record-key.js';
import type { KeySpec } from '../protocol.js';

const MAX = Number.MAX_SAFE_INTEGER;

/**
 * Why `key` is not a usable sort key, or undefined: a key as `keyMisfit` takes it (a finite,
 * exact number or a string, of the declared type), or a non-empty array of such numbers and
 * strings. A string must be well-formed Unicode: an unpaired surrogate has no code point, and
 * MessagePack would store it as U+FFFD.
 */
export function sortKeyMisfit(key: unknown, spec: KeySpec): string | undefined {
  if (!Array.isArray(key)) {
    const why = keyMisfit(key, spec);
    return why?.replace('expected a string or a finite number', 'expected a string, a finite number or an array of them');
  }
  if ('field' in spec && spec.type !== undefined) return `${keyName(spec)}: types declares it a ${spec.type}, got ${describe(key)}`;
  if (key.length === 0) return `${keyName(spec)}: an empty array is not a sort key (a tuple needs at least one element)`;
  for (let i = 0; i < key.length; i++) {
    const v: unknown = key[i];
    if (typeof v === 'number' ? v - v === 0 && Math.abs(v) <= MAX : typeof v === 'string' && v.isWellFormed()) continue;
    // the message is made only for a bad element: this runs once per record
    const at = `${keyName(spec)}: element ${i} of ${describe(key)}`;
    if (typeof v === 'string') return `${at}: ${unpaired(v)}`;
    if (typeof v !== 'number' || v - v !== 0) return `${at}: expected a string or a finite number, got ${describeField(v)}`;
    return `${at}: ${v} is beyond ±(2^53 − 1), where a number may have been rounded`;
  }
  return undefined;
}
