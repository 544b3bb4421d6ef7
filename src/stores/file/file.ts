/** `File`: a directory with one file per key (partd's File). */
import fs from 'node:fs';
import path from 'node:path';
import { describe } from '../../errors.js';
import { isMetaId, keyFromId, keyId } from '../../keys.js';
import { RawStore, type Entry } from '../../partd.js';
import { DirLock } from './dir-lock.js';
import { AppendHandles } from './handles.js';
import { ID_SUFFIX, isHashed, keyOfPath, keyPath } from './names.js';
import { openStoreDir, type StoreDir } from '../store-dir.js';

const MARKER = '.partd-file';
const META_DIR = '.meta';
const JOURNAL = '.journal';
const READ_PIECE = 1 << 20;

/**
 * A directory with one file per key; tuple keys become folders. Appends and reads take a
 * lock file, so several threads and processes can share one directory: one `append` call is
 * never seen half-done, and a failed call (a full disk, say) is rolled back.
 */
export class File extends RawStore {
  /** The store's directory. */
  readonly path: string;
  readonly #dir: StoreDir;
  readonly #lock: DirLock;
  readonly #journal: Journal;
  readonly #handles = new AppendHandles();

  /** Opens (or creates) the store at `dir`; without `dir`, a temporary directory. */
  constructor(dir?: string) {
    super();
    // File has no options: an options object passed anyway (as Lmdb takes one) is refused, not ignored
    // eslint-disable-next-line prefer-rest-params -- the signature takes one argument: a second is looked for, not declared
    const extra = (arguments as unknown as unknown[])[1];
    if (extra !== undefined)
      throw new TypeError(`options: File takes no options, got ${describe(extra)}; its one argument is the directory`);
    this.#dir = openStoreDir('File', dir, MARKER);
    this.path = this.#dir.path;
    this.#lock = new DirLock(this.path, () => this.#handles.closeAll());
    this.#journal = new Journal(path.join(this.path, JOURNAL));
  }

  /** The file that holds `key`. */
  filename(key: Parameters<typeof keyPath>[0]): string {
    return path.join(this.path, ...keyPath(key));
  }

  protected async appendIds(entries: readonly Entry<Uint8Array>[]): Promise<void> {
    await this.#locked(async () => {
      // Each file's values in call order, so a file is opened once per call (a key exists only while it holds bytes).
      const writes = new Map<string, { id: string; values: Uint8Array[] }>();
      for (const [id, value] of entries) {
        if (value.length === 0) continue;
        const file = this.#fileOf(id);
        const w = writes.get(file);
        if (w) w.values.push(value);
        else writes.set(file, { id, values: [value] });
      }
      // The journal holds every file's size before this call: a holder killed mid-call is rolled
      // back by the next one to take the lock, so no reader ever sees half a call or a torn value.
      const before = new Map([...writes.keys()].map((f) => [f, this.#handles.sizeOf(f)] as const));
      this.#journal.begin(before);
      try {
        await this.#handles.appendAll([...writes].map(([file, { values }]) => [file, values] as const));
        for (const [file, { id }] of writes) this.#rememberId(file, id);
      } catch (e) {
        this.#handles.closeAll();
        rollBack(before);
        throw e;
      } finally {
        this.#journal.end();
      }
    });
  }

  protected async getIds(ids: readonly string[]): Promise<Uint8Array[]> {
    return this.#locked(() => ids.map((id) => readKeyFile(this.#fileOf(id))));
  }

  protected override async getIdsWith(ids: readonly string[], after: readonly Uint8Array[]): Promise<Uint8Array[]> {
    return this.#locked(() => ids.map((id, i) => readKeyFile(this.#fileOf(id), after[i]!)));
  }

  protected override async popIds(ids: readonly string[]): Promise<Uint8Array[]> {
    return this.#locked(() =>
      ids.map((id) => {
        const file = this.#fileOf(id);
        const value = readKeyFile(file);
        this.#removeKeyFile(file);
        return value;
      }),
    );
  }

  protected async setId(id: string, value: Uint8Array): Promise<void> {
    await this.#locked(() => {
      const file = this.#fileOf(id);
      if (value.length === 0) return this.#removeKeyFile(file);
      this.#handles.forget([file]);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      // Write aside, then rename: a reader sees the old value or the new one, never a mix.
      const tmp = path.join(this.path, `.set-${process.pid}-${Math.random().toString(36).slice(2)}`);
      fs.writeFileSync(tmp, value);
      fs.renameSync(tmp, file);
      this.#rememberId(file, id);
    });
  }

  protected async deleteIds(ids: readonly string[]): Promise<void> {
    await this.#locked(() => ids.forEach((id) => this.#removeKeyFile(this.#fileOf(id))));
  }

  protected async dropAll(): Promise<void> {
    await this.#locked(() => {
      this.#handles.closeAll();
      // kept: the marker, a temporary store's owner note (.partd-*), the lock and the journal
      for (const name of fs.readdirSync(this.path)) {
        if (!name.startsWith('.partd-') && name !== '.lock' && name !== JOURNAL)
          fs.rmSync(path.join(this.path, name), { recursive: true, force: true });
      }
    });
  }

  protected async closeStore(): Promise<void> {
    await this.#locked(() => undefined); // let calls in flight finish first
    await this.#lock.close();
    this.#journal.close();
    this.#dir.close();
  }

  protected async *iterateId(id: string): AsyncGenerator<Uint8Array> {
    const file = this.#fileOf(id);
    let handle: fs.promises.FileHandle;
    let size: number;
    try {
      // Open under the lock so the size read is at an append-call boundary.
      [handle, size] = await this.#locked(async () => {
        const h = await fs.promises.open(file, 'r');
        return [h, (await h.stat()).size] as const;
      });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    try {
      for (let pos = 0; pos < size;) {
        const piece = Buffer.allocUnsafe(Math.min(READ_PIECE, size - pos));
        const { bytesRead } = await handle.read(piece, 0, piece.length, pos);
        if (bytesRead === 0) break;
        pos += bytesRead;
        yield piece.subarray(0, bytesRead);
      }
    } finally {
      await handle.close();
    }
  }

  protected async *listIds(): AsyncGenerator<string> {
    const root = this.path;
    async function* walk(rel: string[]): AsyncGenerator<string> {
      const dirents = await fs.promises.readdir(path.join(root, ...rel), { withFileTypes: true });
      for (const d of dirents) {
        if (d.name.startsWith('.') || d.name.endsWith(ID_SUFFIX)) continue;
        const segs = [...rel, d.name];
        if (d.isDirectory()) yield* walk(segs);
        else if (isHashed(segs)) yield await fs.promises.readFile(path.join(root, ...segs) + ID_SUFFIX, 'utf8');
        else yield keyId(keyOfPath(segs));
      }
    }
    yield* walk([]);
  }

  /** Runs `fn` under the lock, first rolling back a call whose holder died (its journal is left). */
  #locked<T>(fn: () => T | Promise<T>): Promise<T> {
    return this.#lock.run(() => {
      this.#journal.recover();
      return fn();
    });
  }

  #fileOf(id: string): string {
    // Layer metadata lives under .meta/, which keys() does not walk.
    if (isMetaId(id)) return path.join(this.path, META_DIR, ...keyPath(id));
    return path.join(this.path, ...keyPath(keyFromId(id)));
  }

  #removeKeyFile(file: string): void {
    this.#handles.forget([file]);
    fs.rmSync(file, { force: true });
    fs.rmSync(file + ID_SUFFIX, { force: true });
  }

  /** Keeps the id beside a file whose name was shortened, so `keys()` can report it. */
  #rememberId(file: string, id: string): void {
    if (isHashed(path.relative(this.path, file).split(path.sep))) fs.writeFileSync(file + ID_SUFFIX, id);
  }
}

/** Puts files back to their sizes (-1: removes the file). */
function rollBack(sizes: ReadonlyMap<string, number>): void {
  for (const [file, size] of sizes) {
    if (size < 0) fs.rmSync(file, { force: true });
    else if (fs.existsSync(file)) fs.truncateSync(file, size);
  }
}

/**
 * The crash journal: the sizes of the files an append call is about to grow, written before it
 * writes and emptied after, under the lock. It stays in place, emptied rather than removed:
 * creating and unlinking a file per call cost far more than emptying it (docs/benchmarks.md).
 */
class Journal {
  readonly #fd: number;

  constructor(file: string) {
    this.#fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT);
  }

  /** Rolls back a call whose lock holder died halfway (its journal is not empty). */
  recover(): void {
    const size = fs.fstatSync(this.#fd).size;
    if (size === 0) return;
    const text = Buffer.allocUnsafe(size);
    fs.readSync(this.#fd, text, 0, size, 0);
    let sizes: Map<string, number> | undefined;
    try {
      sizes = new Map(JSON.parse(text.toString('utf8')) as [string, number][]);
    } catch {
      // torn while it was written: the call had not written any value yet
    }
    if (sizes) rollBack(sizes);
    this.end();
  }

  begin(sizes: ReadonlyMap<string, number>): void {
    const text = Buffer.from(JSON.stringify([...sizes]));
    for (let off = 0; off < text.length;) off += fs.writeSync(this.#fd, text, off, text.length - off, off);
  }

  end(): void {
    fs.ftruncateSync(this.#fd, 0);
  }

  close(): void {
    fs.closeSync(this.#fd);
  }
}

/** A key file's bytes, followed by a copy of `after`, in a buffer of their own (a missing file holds none). */
function readKeyFile(file: string, after: Uint8Array = new Uint8Array(0)): Uint8Array {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return Uint8Array.prototype.slice.call(after);
    throw e;
  }
  try {
    const size = fs.fstatSync(fd).size;
    const out = Buffer.allocUnsafeSlow(size + after.length); // not a slice of the shared pool: the caller owns its buffer
    let got = 0;
    while (got < size) {
      const n = fs.readSync(fd, out, got, size - got, got);
      if (n === 0) break; // shorter than its size said
      got += n;
    }
    out.set(after, got);
    return out.subarray(0, got + after.length);
  } finally {
    fs.closeSync(fd);
  }
}
