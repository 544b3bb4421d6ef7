/**
 * Reading a field of a record, compiled: a field name reads that property; a dotted name
 * (`user.id`) reads the property of that exact name when the record has one, else the path.
 * Only a record's own properties are its fields: a missing `constructor` or `toString` is
 * missing, not Object.prototype's function. The names enter the code as JSON string literals,
 * so V8 reads them as named properties.
 */
import { describe } from '../../errors.js';

/**
 * `r[name]` (`name` a JSON string literal) if own, else undefined. Inherited values are
 * functions (or `__proto__`'s object), so only a function costs the own-property check.
 */
function own(r: string, name: string): string {
  if (name === '"__proto__"') return `(${r} != null && Object.hasOwn(${r}, ${name}) ? ${r}[${name}] : undefined)`;
  return `(typeof ${r}?.[${name}] !== "function" || Object.hasOwn(${r}, ${name}) ? ${r}?.[${name}] : undefined)`;
}

/** A JavaScript expression reading `field` of the record in variable `r` (undefined where missing). */
export function fieldExpr(field: string, r = 'r'): string {
  const name = JSON.stringify(field);
  if (!field.includes('.')) return own(r, name);
  const parts = JSON.stringify(field.split('.'));
  return `((x) => {
    const whole = ${own('x', name)};
    if (whole !== undefined) return whole;
    for (const p of ${parts}) {
      if (x == null || !(Object.hasOwn(x, p) || (p !== "__proto__" && typeof x[p] !== "function"))) return undefined;
      x = x[p];
    }
    return x;
  })(${r})`;
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
