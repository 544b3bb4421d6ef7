/** The options of an `Lmdb` store, and their defaults. */
import { describe } from '../../errors.js';

/** Options of the `Lmdb` store. */
export interface LmdbOptions {
  /**
   * Skip fsync on commit. Default: true for a temporary store (made without a path), false
   * for one at a path. Faster for many small appends and big ones alike, and data still
   * survives a process crash, not a power cut — which costs a temporary store nothing, as it
   * does not outlive its process. But a store written with noSync must be written by ONE
   * process (its threads are fine): with lmdb-js 3.5, when another process writes at the same
   * time, a commit is now and then lost (about one run in ten of 4 processes × 150 appends,
   * also with lmdb-js alone; never with synced commits). So a store shared by processes takes
   * a path, and keeps the synced default.
   */
  noSync?: boolean;
  /**
   * Open for reading only (default false): writes reject, and reads never write — they read
   * the write log as it is instead of compacting it. Shuffle workers open the store so,
   * because a thread terminated inside a write transaction would hang the process.
   */
  readOnly?: boolean;
  /**
   * Values of at least this many bytes go to append-only value files beside the database,
   * which holds a pointer to each (lmdb/files.ts): LMDB would copy them into its pages first.
   * Default 64 KiB; `Infinity` keeps every value in LMDB.
   */
  valueFiles?: number;
  /**
   * A writer starts a new value file once its file holds this many bytes (default 128 MiB).
   * A file less than half live is compacted when its writer leaves it or a delete lowers it
   * further: what it still holds (under half of this) is copied to the writer's file.
   */
  valueFileMax?: number;
}

const KNOWN: readonly (keyof LmdbOptions)[] = ['noSync', 'readOnly', 'valueFiles', 'valueFileMax'];

/** Options with their defaults, checked; throws an error naming a bad or unknown one. */
export function lmdbSettings(dir: string | undefined, options: LmdbOptions): Required<LmdbOptions> {
  if (options === null || typeof options !== 'object' || Array.isArray(options))
    throw new TypeError(`options: expected an object, got ${describe(options)}`);
  // a misspelt option (nosync) would otherwise be ignored, silently
  for (const name of Object.keys(options)) {
    if (!(KNOWN as readonly string[]).includes(name))
      throw new RangeError(`options: unknown option ${JSON.stringify(name)} (known: ${KNOWN.join(', ')})`);
  }
  const flag = (name: 'noSync' | 'readOnly'): boolean | undefined => {
    const v = options[name];
    if (v !== undefined && typeof v !== 'boolean') throw new TypeError(`${name}: expected a boolean, got ${describe(v)}`);
    return v;
  };
  const bytes = (name: 'valueFiles' | 'valueFileMax', fallback: number): number => {
    const n = options[name] ?? fallback;
    if (typeof n !== 'number' || !(n >= 1)) throw new RangeError(`${name}: expected a number of bytes >= 1, got ${String(options[name])}`);
    return n;
  };
  return {
    readOnly: flag('readOnly') ?? false,
    noSync: flag('noSync') ?? dir === undefined,
    valueFiles: bytes('valueFiles', 64 << 10),
    valueFileMax: bytes('valueFileMax', 128 << 20),
  };
}
