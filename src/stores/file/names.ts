/**
 * The File store's key → relative path mapping.
 *
 * - A string segment keeps `[A-Za-z0-9_-]` and non-leading `.`; every other UTF-8 byte is
 *   `%XX`; the empty string is `=`. A number segment is `#` + digits. So no segment is `.`,
 *   `..`, contains `/` or NUL, or starts with `.` (names starting with `.` are the store's own).
 * - A tuple's elements are nested folders whose names end in `+` (`tuple('a','b')` → `a+/b`;
 *   a 1-tuple lives under `+/`), so tuple paths never meet plain keys.
 * - A segment over 200 bytes (or a string with lone surrogates) becomes a prefix, `~` and its SHA-256; the full key id is then
 *   kept beside the data file in `<file>~key` for `keys()`.
 * Distinct keys therefore always get distinct paths, all inside the store's directory.
 */
import { createHash } from 'node:crypto';
import { Tuple, type Key, type KeyPart } from '../../keys.js';

const MAX_SEGMENT = 200;
/** Suffix of the file that holds the id of a key whose path was shortened by hashing. */
export const ID_SUFFIX = '~key';

function segment(part: KeyPart): string {
  let s: string;
  // A string with lone surrogates has no exact UTF-8 form: name it by the hash of its JSON.
  if (typeof part === 'string' && !part.isWellFormed()) return hashed('u', JSON.stringify(part));
  if (typeof part === 'number') s = `#${part}`;
  else if (part === '') s = '=';
  else {
    s = '';
    const bytes = Buffer.from(part, 'utf8');
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      const raw =
        (b >= 0x30 && b <= 0x39) ||
        (b >= 0x41 && b <= 0x5a) ||
        (b >= 0x61 && b <= 0x7a) ||
        b === 0x5f ||
        b === 0x2d ||
        (b === 0x2e && i > 0);
      s += raw ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    }
  }
  return s.length <= MAX_SEGMENT ? s : hashed(s.slice(0, 100), s);
}

function hashed(prefix: string, full: string): string {
  return `${prefix}~${createHash('sha256').update(full).digest('hex')}`;
}

function unsegment(s: string): KeyPart {
  if (s.startsWith('#')) return Number(s.slice(1));
  if (s === '=') return '';
  return decodeURIComponent(s);
}

/** The path of a key, relative to the store directory, as `/`-separated segments. */
export function keyPath(key: Key): string[] {
  if (!(key instanceof Tuple)) return [segment(key)];
  const parts = key.items.map(segment);
  const last = parts.pop()!;
  return parts.length === 0 ? ['+', last] : [...parts.map((p) => `${p}+`), last];
}

/** True when the path had to be shortened, so the key cannot be read back from it. */
export function isHashed(segments: readonly string[]): boolean {
  return segments.some((s) => s.includes('~'));
}

/** The key of an un-hashed path (the inverse of `keyPath`). */
export function keyOfPath(segments: readonly string[]): Key {
  if (segments.length === 1) return unsegment(segments[0]!);
  const dirs = segments.slice(0, -1);
  const items = dirs[0] === '+' && dirs.length === 1 ? [] : dirs.map((d) => unsegment(d.slice(0, -1)));
  return new Tuple([...items, unsegment(segments[segments.length - 1]!)]);
}
