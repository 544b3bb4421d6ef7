/** The directory a disk store lives in: given by the caller, or temporary. */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DiskFullError, StoreKindError } from '../errors.js';
import { makeTempDir, removeTempDir } from './temp.js';

/** An opened store directory. */
export interface StoreDir {
  readonly path: string;
  /** True for a directory this package made and removes on close. */
  readonly temporary: boolean;
  close(): void;
}

/**
 * Opens the store directory of `kind`, marked by the file `marker`. A missing or empty
 * directory becomes a new store — unless `existing` is given: then the store (with the file
 * `holding`) must already be there, and `existing` says why in the error; nothing is created
 * or written. A directory that holds anything else is refused, never adopted.
 */
export function openStoreDir(
  kind: string,
  dir: string | undefined,
  marker: string,
  options: { existing?: string; holding?: string } = {},
): StoreDir {
  const { existing, holding } = options;
  if (dir === undefined && existing !== undefined) throw new TypeError(`${kind}: no directory given; ${existing}`);
  if (dir === undefined) {
    const tmp = makeTempDir(kind.toLowerCase());
    writeMarker(tmp, kind, marker);
    return { path: tmp, temporary: true, close: () => removeTempDir(tmp) };
  }
  if (typeof dir !== 'string' || dir === '') throw new TypeError(`path: expected a directory path string, got ${JSON.stringify(dir)}`);
  const abs = path.resolve(dir);
  let entries: string[] | undefined;
  try {
    if (!fs.statSync(abs).isDirectory()) throw new StoreKindError(kind, abs, 'it is not a directory');
    entries = fs.readdirSync(abs).filter((e) => !e.startsWith(`${marker}.tmp-`)); // another process's marker being written
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (existing !== undefined && entries === undefined)
    throw Object.assign(new Error(`${kind}: ${abs} does not exist; ${existing}`), { code: 'ENOENT' });
  if (existing !== undefined && entries!.length === 0) throw new Error(`${kind}: ${abs} holds no store (it is empty); ${existing}`);
  if (entries === undefined) fs.mkdirSync(abs, { recursive: true });
  if (entries === undefined || entries.length === 0) writeMarker(abs, kind, marker);
  else if (!entries.includes(marker)) {
    const shown = entries.slice(0, 3).join(', ') + (entries.length > 3 ? ', …' : '');
    throw new StoreKindError(kind, abs, `it holds ${shown} and no ${marker} marker`);
  } else checkMarker(abs, kind, marker);
  if (existing !== undefined && holding !== undefined && !entries!.includes(holding)) {
    throw Object.assign(new Error(`${kind}: ${abs} holds no ${holding}; ${existing}`), { code: 'ENOENT' });
  }
  return { path: abs, temporary: false, close: () => undefined };
}

/** The store format this code writes, and the newest it reads. */
const FORMAT = 1;

/** Writes the marker aside, then renames it into place: a process opening the store at the same moment never reads half of it. */
function writeMarker(dir: string, kind: string, marker: string): void {
  const aside = path.join(dir, `${marker}.tmp-${process.pid}-${randomUUID()}`);
  fs.writeFileSync(aside, JSON.stringify({ partd: kind, version: FORMAT }) + '\n');
  fs.renameSync(aside, path.join(dir, marker));
}

/** Refuses a store whose marker names another kind, or a format newer than this code reads. */
function checkMarker(dir: string, kind: string, marker: string): void {
  let found: { partd?: unknown; version?: unknown } | undefined;
  try {
    found = JSON.parse(fs.readFileSync(path.join(dir, marker), 'utf8')) as typeof found;
  } catch {
    // an unreadable marker: reported below
  }
  if (found?.partd !== kind || typeof found.version !== 'number')
    throw new StoreKindError(kind, dir, `its ${marker} marker is not one partd wrote`);
  if (found.version > FORMAT)
    throw new StoreKindError(
      kind,
      dir,
      `it is in format ${found.version}, written by a newer partd; this one reads formats up to ${FORMAT}`,
    );
}

/** Below this much free space, a failed write is taken for a full disk. */
const FULL_DISK_BYTES = 64 << 20;

/**
 * `error` as a DiskFullError (code ENOSPC) naming `what` when the file system holding `dir` is
 * (nearly) full — LMDB, for one, may report a full disk as EIO — else `error` itself.
 */
export function diskFullError(error: unknown, what: string, dir: string): unknown {
  let free: number | undefined;
  try {
    const s = fs.statfsSync(dir);
    free = s.bavail * s.bsize;
  } catch {
    return error;
  }
  if (free >= FULL_DISK_BYTES) return error;
  return new DiskFullError(`ENOSPC: no space left on device for ${what} (${(error as Error).message})`, { cause: error });
}
