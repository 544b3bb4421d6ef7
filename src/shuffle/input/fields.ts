/**
 * Reading a field of a record, compiled: a field name reads that property; a dotted name
 * (`user.id`) reads the property of that exact name when the record has one, else the path.
 * The names enter the code as JSON string literals, so V8 reads them as named properties.
 */
import { describe } from '../../errors.js';

/** A JavaScript expression reading `field` of the record in variable `r` (undefined where missing). */
export function fieldExpr(field: string, r = 'r'): string {
  const name = JSON.stringify(field);
  if (!field.includes('.')) return `${r}?.[${name}]`;
  const path = field
    .split('.')
    .map((part) => `?.[${JSON.stringify(part)}]`)
    .join('');
  return `(${r}?.[${name}] !== undefined ? ${r}[${name}] : ${r}${path})`;
}

const readers = new Map<string, (record: unknown) => unknown>();

/** A compiled `(record) => value of field`, compiled once per field and thread (a message for each bad record reads one too). */
export function fieldReader(field: string): (record: unknown) => unknown {
  let read = readers.get(field);
  if (read === undefined) readers.set(field, (read = new Function('r', `return ${fieldExpr(field)};`) as (record: unknown) => unknown));
  return read;
}

/** A field's value for an error message: what `describe` says, or that the field is missing. */
export const describeField = (value: unknown): string => (value === undefined ? 'nothing (the field is missing)' : describe(value));
