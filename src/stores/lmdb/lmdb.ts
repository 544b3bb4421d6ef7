/** `Lmdb`: the default store, on LMDB (lmdb-js). */
import path from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import { keyId, type Key } from '../../keys.js';
import { InOrder } from '../../mutex.js';
import { RawStore, type AppendData, type Entry } from '../../partd.js';
import { Chunks } from './chunks.js';
import type { Compaction } from './log.js';
import { ValueFiles, type Placement } from './files.js';
import { OpenFiles } from './pointers.js';
import { lmdbSettings, type LmdbOptions } from './options.js';
import { diskFullError, openStoreDir, type StoreDir } from '../store-dir.js';

export type { LmdbOptions } from './options.js';

const MARKER = '.partd-lmdb';
/** A call writes its large values in the threadpool once they hold this many times `valueFiles` bytes. */
const PREWRITE_FACTOR = 16;

/**
 * `appendIf` with entries already validated (key ids and bytes, metadata ids included): the
 * shuffle's commits and job claims. Internal: exported by neither `partd` nor `partd/extend`.
 */
export let appendEntriesIf: (
  store: Lmdb,
  entries: readonly Entry<Uint8Array>[],
  check: (get: (key: Key) => Uint8Array) => void,
  afterWrites?: () => void,
) => void;

/**
 * A store on LMDB. Each appended chunk is its own entry under the key
 * `id · 0x00 · seq · piece`, where `seq` counts append calls (one per write transaction),
 * so an append never rewrites what a key holds and `get` is one range read. Append calls of
 * small values go to a write log first, one entry per call, and are compacted into such
 * chunks in bulk (see lmdb/log.ts): any other operation compacts a non-empty log first
 * (a read-only instance reads the log as it is), so it always sees every key's bytes in
 * append order. Large values (`valueFiles`) are written to append-only files beside the
 * database, which holds a pointer to each in their place (lmdb/files.ts). Writers are
 * serialised by LMDB across threads and processes; reads take no lock unless they find a log
 * to compact; the map grows on demand. Key layout: lmdb/keys.ts; what the operations do to
 * the keys: lmdb/chunks.ts. This class runs them: in transactions, snapshots and call order.
 */
export class Lmdb extends RawStore {
  /** The store's directory. */
  readonly path: string;
  /** True when opened with `readOnly`. */
  readonly readOnly: boolean;
  /** True when commits skip fsync (see `LmdbOptions.noSync`). */
  readonly noSync: boolean;
  readonly #dir: StoreDir;
  readonly #env: RootDatabase<Buffer, Buffer>;
  readonly #db: Database<Buffer, Buffer>;
  readonly #files: ValueFiles;
  readonly #chunks: Chunks;
  readonly #calls = new InOrder(); // an append that writes in the threadpool holds back later calls

  /** Opens (or creates) the store in directory `dir`; without `dir`, a temporary directory. */
  constructor(dir?: string, options: LmdbOptions = {}) {
    super();
    const settings = lmdbSettings(dir, options); // before anything is opened or created
    // a readOnly store is never created: it must exist, database file included
    this.#dir = openStoreDir(
      'Lmdb',
      dir,
      MARKER,
      settings.readOnly ? { existing: 'a readOnly store must already be there', holding: 'data.mdb' } : {},
    );
    this.path = this.#dir.path;
    ({ readOnly: this.readOnly, noSync: this.noSync } = settings);
    this.#files = new ValueFiles(this.path, !this.noSync, settings.valueFileMax, settings.valueFiles * PREWRITE_FACTOR);
    this.#env = open<Buffer, Buffer>({
      path: path.join(this.path, 'data.mdb'),
      encoding: 'binary',
      keyEncoding: 'binary',
      compression: false,
      noSync: this.noSync,
      readOnly: this.readOnly,
      // Not useWritemap: it made small appends ~2x faster, but processes sharing the store got SIGBUS as the map grew.
      cache: false,
    });
    this.#db = this.#env;
    this.#chunks = new Chunks(this.#db, this.#files, settings.valueFiles);
  }

  protected async appendIds(entries: readonly Entry<Uint8Array>[]): Promise<void> {
    this.#writable('append'); // before any value file is written
    const large = this.#chunks.largeValues(entries);
    const write = (placed?: Placement[]) => this.#transaction('append', () => this.#chunks.write(entries, true, placed));
    if (!this.#files.gainsFromPrewrite(large)) return this.#calls.run(() => write());
    return this.#calls.run(async () => write(await this.#files.prewrite(large)));
  }

  /**
   * One append call whose transaction first runs `check`, which reads the store as the
   * transaction sees it and throws to write nothing: a compare-and-append across threads and
   * processes (the shuffle guards its commits with it). `afterWrites` runs after the writes,
   * before the commit (fault injection in tests). Done when it returns.
   *
   * It runs at once, before any call of this instance still in progress.
   *
   * Run write transactions in threads that are not terminated: a worker thread terminated
   * inside an LMDB write transaction leaves the writer lock held and hangs the process
   * (the shuffle therefore commits from the coordinating thread).
   */
  appendIf(data: AppendData<Uint8Array>, check: (get: (key: Key) => Uint8Array) => void, afterWrites?: () => void): void {
    this.assertOpen('appendIf');
    this.#appendEntriesIf(this.entriesOf(data), check, afterWrites);
  }

  static {
    appendEntriesIf = (store, entries, check, afterWrites) => store.#appendEntriesIf(entries, check, afterWrites);
  }

  #appendEntriesIf(entries: readonly Entry<Uint8Array>[], check: (get: (key: Key) => Uint8Array) => void, afterWrites?: () => void): void {
    this.#transaction('appendIf', () => {
      this.#chunks.compact();
      check((key) => this.#reading((files) => this.#chunks.read(keyId(key, 'key'), files), 0)); // no retry: inside the writer lock, nothing retires a file
      this.#chunks.write(entries, false);
      afterWrites?.();
    });
  }

  /** Runs a write transaction; a full disk is reported as ENOSPC (LMDB itself may say EIO). */
  #transaction<T>(method: string, fn: () => T): T {
    this.#writable(method);
    let committed = false;
    try {
      const out = this.#named(() =>
        this.#db.transactionSync(() => {
          const r = fn();
          this.#files.beforeCommit(this.#db);
          return r;
        }),
      );
      committed = true;
      return out;
    } finally {
      this.#files.afterCommit(committed);
    }
  }

  #writable(method: string): void {
    if (this.readOnly) throw new TypeError(`${method}: the Lmdb store at ${this.path} was opened readOnly`);
  }

  /** Runs a write; a failure on a (nearly) full disk becomes an ENOSPC error naming the store. */
  #named<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw e instanceof TypeError ? e : diskFullError(e, `the Lmdb store at ${this.path}`, this.path);
    }
  }

  /**
   * Before reading: a fresh snapshot with the log compacted, so every key's chunks are in
   * place — or, on a read-only instance, the log as it is, to read alongside.
   */
  #settle(): Compaction | undefined {
    this.#fresh();
    if (!this.#chunks.logged) return undefined;
    if (this.readOnly) return this.#chunks.readLog().compaction;
    this.#transaction('read', () => this.#chunks.compact());
    this.#fresh();
    return undefined;
  }

  protected async getIds(ids: readonly string[]): Promise<Uint8Array[]> {
    return this.#get(ids);
  }

  protected override async getIdsWith(ids: readonly string[], after: readonly Uint8Array[]): Promise<Uint8Array[]> {
    return this.#get(ids, after);
  }

  #get(ids: readonly string[], after?: readonly Uint8Array[]): Promise<Uint8Array[]> {
    return this.#calls.run(() =>
      this.#reading((files) => {
        const log = this.#settle();
        return ids.map((id, i) => this.#chunks.read(id, files, log?.chunk(id), after?.[i]));
      }),
    );
  }

  /**
   * Runs a read with the value files it opens (closed after). A file retired under its snapshot
   * (ENOENT: deleted or dropped meanwhile) makes it start again on a fresh one.
   */
  #reading<T>(read: (files: OpenFiles) => T, retries = 4): T {
    for (let attempt = 0; ; attempt++) {
      const files = new OpenFiles(this.#files.dir);
      try {
        return read(files);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= retries) throw e;
      } finally {
        files.close();
      }
    }
  }

  protected override async popIds(ids: readonly string[]): Promise<Uint8Array[]> {
    return this.#calls.run(() =>
      this.#transaction('pop', () => {
        this.#chunks.compact();
        return this.#reading(
          (files) =>
            ids.map((id) => {
              const value = this.#chunks.read(id, files);
              this.#chunks.remove(id);
              return value;
            }),
          0,
        );
      }),
    );
  }

  protected async setId(id: string, value: Uint8Array): Promise<void> {
    return this.#calls.run(() =>
      this.#transaction('iset', () => {
        this.#chunks.compact();
        this.#chunks.remove(id);
        this.#chunks.write([[id, value]], false);
      }),
    );
  }

  protected async deleteIds(ids: readonly string[]): Promise<void> {
    return this.#calls.run(() =>
      this.#transaction('delete', () => {
        this.#chunks.compact();
        ids.forEach((id) => this.#chunks.remove(id));
      }),
    );
  }

  protected async dropAll(): Promise<void> {
    return this.#calls.run(() =>
      this.#transaction('drop', () => {
        this.#files.retireAll(this.#db);
        this.#db.clearSync(); // runs inside this transaction
      }),
    );
  }

  protected async closeStore(): Promise<void> {
    await this.#calls.run(() => undefined); // let calls in flight finish first
    await this.#files.close();
    await this.#env.close();
    this.#dir.close();
  }

  protected async *iterateId(id: string): AsyncGenerator<Uint8Array> {
    await this.#calls.run(() => undefined); // sees every call made before it
    const files = new OpenFiles(this.#files.dir);
    // Every value file the key points into is opened before anything is yielded: one retired
    // while the caller iterates (compacted by another writer, say) then stays readable.
    const { log, prefix } = this.#reading((opened) => {
      const log = this.#settle();
      const prefix = this.#chunks.openFiles(id, opened);
      opened.moveTo(files); // kept open until the iteration ends
      return { log, prefix };
    });
    try {
      if (prefix !== undefined) yield* this.#chunks.pieces(prefix, files);
    } finally {
      files.close();
    }
    const logged = log?.chunk(id);
    if (logged !== undefined) yield logged;
  }

  protected async *listIds(): AsyncGenerator<string> {
    await this.#calls.run(() => undefined);
    const log = this.#settle();
    const stored = new Set<string>();
    for (const id of this.#chunks.ids()) {
      if (log) stored.add(id);
      yield id;
    }
    if (log) for (const id of log.ids()) if (!stored.has(id)) yield id;
  }

  /** Reads see every commit made so far, by any thread or process (lmdb-js otherwise reuses a snapshot for a while). */
  #fresh(): void {
    this.#db.resetReadTxn();
  }
}
