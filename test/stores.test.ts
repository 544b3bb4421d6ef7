/** What is particular to each store, beyond the conformance suite. */
import { describe, expect, it, jest } from '@jest/globals';
import fs from 'node:fs';
import path from 'node:path';
import {
  Brotli,
  ClosedError,
  Dict,
  Encode,
  File,
  Layer,
  LZ4,
  Lmdb,
  Msgpack,
  Partd,
  RawStore,
  Spill,
  StoreKindError,
  Structured,
  TypedArrays,
  ZLib,
  keysToFlush,
  tuple,
  type Key,
} from '../src/index.js';
import { b } from '../src/extend/conformance.js';
import { hooksOf, type Hooks } from '../src/partd.js';
import { grantLease } from '../src/shuffle/runtime/commits.js';
import { fixture, runNode } from './support/child.js';
import { tempDirs } from './support/temp-dirs.js';

const str = (u: Uint8Array) => Buffer.from(u).toString();
const scratch = tempDirs('partd-test-');
/** Directories named as a temporary store's are, for the sweep to leave alone (removed by that test, or after the file if it fails). */
const lookalike = tempDirs('partd-lmdb-');
/** Descriptors this process has open (a leak test counts them before and after). */
const fds = () => fs.readdirSync('/proc/self/fd').length;

function walk(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((d) => (d.isDirectory() ? walk(path.join(dir, d.name)) : [path.join(dir, d.name)]));
}

describe('Spill (partd test_buffer)', () => {
  // A fast store other than Dict has its sizes read from its values: the sequence is the same.
  it.each([
    ['Dict', () => new Dict()],
    ['LZ4(Dict)', () => new LZ4(new Dict())],
  ])("spills the largest key past the budget, in partd's exact sequence (fast: %s)", async (_, fast) => {
    const a = fast();
    const s = new Dict();
    const p = new Spill(a, s, 10);
    await p.append({ x: b('Hello'), y: b('abc') });
    expect((await a.get(['x', 'y'])).map(str)).toEqual(['Hello', 'abc']);
    expect(p.memoryUsage).toBe(8);
    await p.append({ x: b('World!'), y: b('def') });
    expect((await a.get(['x', 'y'])).map(str)).toEqual(['', 'abcdef']);
    expect((await s.get(['x', 'y'])).map(str)).toEqual(['HelloWorld!', '']);
    expect(p.memoryUsage).toBe(6);
    expect((await p.get(['y', 'x'])).map(str)).toEqual(['abcdef', 'HelloWorld!']);
    expect(str(await p.get('z'))).toBe('');
    // slow bytes come first: they are older
    await p.append({ x: b('?') });
    expect(str(await p.get('x'))).toBe('HelloWorld!?');
    await p.flush();
    expect(p.memoryUsage).toBe(0);
    expect((await s.get(['x', 'y'])).map(str)).toEqual(['HelloWorld!?', 'abcdef']);
    await p.close();
    expect(a.closed && s.closed).toBe(true);
  });

  it('counts the bytes in memory through delete, pop, iset and drop', async () => {
    const p = new Spill(new Dict(), new Dict(), 100);
    await p.append({ x: b('12345'), y: b('123'), z: b('1') });
    await p.delete(['y', 'missing']);
    expect(p.memoryUsage).toBe(6);
    expect(str(await p.pop('x'))).toBe('12345');
    expect(p.memoryUsage).toBe(1);
    await p.iset('z', b('ab')); // replaces z's byte
    expect(p.memoryUsage).toBe(2);
    await p.drop();
    expect(p.memoryUsage).toBe(0);
    await p.close();
  });

  it('moves chunks of 64 KiB and up to the slow store as they were appended, joins smaller ones', async () => {
    const received: [string, number][] = [];
    class Recording extends Dict {
      protected override async appendIds(entries: readonly (readonly [string, Uint8Array])[]): Promise<void> {
        for (const [id, v] of entries) received.push([id, v.length]);
        return super.appendIds(entries);
      }
    }
    const fast = new Dict();
    const big = (n: number) => new Uint8Array(100_000).fill(n);
    const p = new Spill(fast, new Recording(), 250_000);
    for (const n of [1, 2, 3]) await p.append({ a: big(n) }); // the third passes the budget
    expect(received).toEqual([
      ['a', 100_000],
      ['a', 100_000],
      ['a', 100_000],
    ]);
    expect([...(await p.get('a'))].filter((_, i) => i % 100_000 === 0)).toEqual([1, 2, 3]); // in order
    received.length = 0;
    const q = new Spill(new Dict(), new Recording(), 1000);
    for (const c of 'xyz') await q.append({ s: b(c.repeat(400)) });
    expect(received).toEqual([['s', 1200]]);
    expect(str(await q.get('s'))).toBe('x'.repeat(400) + 'y'.repeat(400) + 'z'.repeat(400));
    expect(await hooksOf(fast).popChunkIds(['none'])).toEqual([[]]);
    await Promise.all([p.close(), q.close()]);
  });

  it('keysToFlush matches partd', () => {
    expect(keysToFlush({ a: 20, b: 10, c: 15, d: 15, e: 10, f: 25, g: 5 }, 0.5)).toEqual(['f', 'a']);
    expect(keysToFlush(new Map([['only', 3]]), 0.1)).toEqual(['only']);
    expect(keysToFlush({}, 0.1)).toEqual([]);
    expect(keysToFlush(Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, 10])), 1, 20)).toHaveLength(20);
  });

  it('refuses a bad budget or stores', () => {
    expect(() => new Spill(new Dict(), new Dict(), -1)).toThrow(/availableMemory/);
    expect(() => new Spill({} as Dict, new Dict(), 1)).toThrow(/fast/);
  });

  // What Spill's get reads its slow part with: each value and then the fast part, in one buffer.
  it.each([
    ['Dict', () => new Dict(), 1],
    ['File', () => new File(), 1],
    ['Lmdb, its write log', () => new Lmdb(), 1],
    ['Lmdb, chunks in place and the write log', () => new Lmdb(), 5000],
    ['Lmdb, value files and the write log', () => new Lmdb(undefined, { valueFiles: 1 }), 5000],
  ])('getIdsWith on %s: each value followed by a copy of its tail', async (_, make, size) => {
    const store = make();
    const big = (s: string) => s.repeat(size);
    try {
      await store.append({ a: b(big('a')), b: b(big('b')) }); // 5000-byte values go past Lmdb's log
      await store.append({ a: b('a2') }); // a small call: to Lmdb's log
      const want = [`${big('a')}a2+A`, '+M', big('b'), `${big('b')}+C`];
      const tails = [b('+A'), b('+M'), b(''), b('+C')];
      const got = await hooksOf(store).getIdsWith(['a', 'missing', 'b', 'b'], tails);
      expect(got.map(str)).toEqual(want);
      for (const t of tails) t.fill(0x21); // the tails were copied
      expect(got.map(str)).toEqual(want);
      expect((await store.get(['a', 'b'])).map(str)).toEqual([`${big('a')}a2`, big('b')]);
    } finally {
      await store.drop();
      await store.close();
    }
  });
});

describe('the store-implementer hooks', () => {
  // Type-level: `true` only while no exported store or layer has a hook on its public type
  // (the build fails otherwise).
  type HookName = keyof Hooks<Uint8Array, Uint8Array> | 'closeStore' | 'appendEntriesIf';
  type PublicHooks<T> = T extends unknown ? Extract<keyof T, HookName> : never;
  type Exported = Partd | RawStore | Dict | File | Lmdb | Spill | Layer<unknown, unknown> | Encode<unknown, unknown>;
  type ExportedLayers = Msgpack | Structured | ZLib | Brotli | LZ4 | TypedArrays;
  const none: [PublicHooks<Exported | ExportedLayers>] extends [never] ? true : false = true;

  it('are not on the public type: users go through the validating methods', () => {
    expect(none).toBe(true);
    // @ts-expect-error the hooks are protected
    expect(typeof new Dict().getIds).toBe('function'); // there at run time, for the store's own methods
  });

  it('of a closed store reject with ClosedError naming the hook, through the one path wrappers use', async () => {
    const dict = new Dict();
    await dict.close();
    await expect(hooksOf(dict).getIds(['a'])).rejects.toThrow(new ClosedError('getIds'));
    const drain = async (items: AsyncIterable<unknown>) => {
      for await (const _ of items);
    };
    await expect(drain(hooksOf(dict).listIds())).rejects.toThrow(new ClosedError('listIds')); // checked as the iteration starts
    const inner = new Dict();
    const layer = new Msgpack(new LZ4(inner));
    await inner.close();
    await expect(layer.get('a')).rejects.toThrow(ClosedError);
    const spill = new Spill(new Dict(), new Dict());
    await spill.close();
    await expect(spill.flush()).rejects.toThrow(new ClosedError('flush'));
    const lmdb = new Lmdb();
    await lmdb.close();
    await expect(grantLease(lmdb, 0, 'session')).rejects.toThrow(new ClosedError('setId')); // was LMDB's own error
  });
});

describe('File', () => {
  it('keeps append descriptors only while it holds the lock, never writing through a stale one', async () => {
    const dir = scratch();
    const a = new File(dir);
    const other = new File(dir);
    const start = fds();
    for (const c of 'abc') await a.append({ x: b(c), y: b(c) }); // one lock hold: x and y stay open
    expect(fds()).toBeGreaterThanOrEqual(start + 2);
    await a.delete('y'); // its own delete closes y's descriptor
    await a.append({ y: b('d') });
    await a.iset('z', b('1'));
    await a.append({ z: b('2') });
    expect((await a.get(['x', 'y', 'z'])).map(str)).toEqual(['abc', 'd', '12']);
    // Another instance replaces x once a's hold ended: a's next append lands in the new file.
    await new Promise((r) => setTimeout(r, 100));
    await other.delete('x');
    await other.append({ x: b('new') });
    await a.append({ x: b('!') });
    expect(str(await other.get('x'))).toBe('new!');
    await a.close();
    await other.close();
    expect(fds()).toBeLessThanOrEqual(start);
    fs.rmSync(dir, { recursive: true });
  });

  it('closes the oldest descriptor past its cap', async () => {
    const { AppendHandles } = await import('../src/stores/file/handles.js');
    const dir = scratch();
    const handles = new AppendHandles(2);
    const start = fds();
    const files = ['a', 'b', 'c', 'a'].map((n) => path.join(dir, 'sub', n));
    for (const [i, f] of files.entries()) await handles.appendAll([[f, [b(String(i))]]]);
    expect(fds()).toBe(start + 2);
    expect(handles.sizeOf(files[0]!)).toBe(2);
    expect(handles.sizeOf(path.join(dir, 'missing'))).toBe(-1);
    handles.closeAll();
    expect(fds()).toBe(start);
    expect(fs.readFileSync(files[0]!, 'utf8')).toBe('03');
    expect(fs.readFileSync(files[2]!, 'utf8')).toBe('2');
    fs.rmSync(dir, { recursive: true });
  });

  it('writes large values in the threadpool, several files at once, within its cap', async () => {
    const { AppendHandles } = await import('../src/stores/file/handles.js');
    const dir = scratch();
    const handles = new AppendHandles(3);
    const start = fds();
    const big = (i: number) => Buffer.alloc(70_000 + i, i);
    // 5 files for a cap of 3: the call must wait for writes in flight before it closes one
    const files = [0, 1, 2, 3, 4].map((i) => path.join(dir, String(i)));
    await handles.appendAll(files.map((f, i) => [f, [big(i), b('|'), big(i)]]));
    expect(fds()).toBe(start + 3);
    await handles.appendAll([[files[0]!, [big(9)]]]);
    handles.closeAll();
    files.forEach((f, i) => {
      const bytes = fs.readFileSync(f);
      const expected = Buffer.concat([big(i), b('|'), big(i), ...(i === 0 ? [big(9)] : [])]);
      expect(bytes.equals(expected)).toBe(true);
    });
    expect(fds()).toBe(start);
    fs.rmSync(dir, { recursive: true });
  });

  it('continues a partial write where it stopped', async () => {
    const { skip } = await import('../src/stores/writes.js');
    const parts = [b('abc'), b('de'), b('fgh')];
    const rest = (n: number) => Buffer.concat(skip(parts, n)).toString();
    expect([0, 1, 3, 4, 5, 7, 8].map(rest)).toEqual(['abcdefgh', 'bcdefgh', 'defgh', 'efgh', 'fgh', 'h', '']);
  });

  it('keeps one file per key inside its directory (partd test_file)', async () => {
    const p = new File();
    await p.append({ x: b('Hello'), y: b('abc') });
    await p.append({ x: b('World!'), y: b('def') });
    expect(fs.existsSync(p.filename('x'))).toBe(true);
    expect(str(fs.readFileSync(p.filename('x')))).toBe('HelloWorld!');
    await p.append([[tuple('a', 'b'), b('123')]]);
    expect(p.filename(tuple('a', 'b'))).toBe(path.join(p.path, 'a+', 'b'));
    expect(str(fs.readFileSync(p.filename(tuple('a', 'b'))))).toBe('123');
    const dir = p.path;
    await p.drop();
    await p.close();
    expect(fs.existsSync(dir)).toBe(false);
  });

  it('maps every key to its own path below the directory', async () => {
    const p = new File();
    const keys: Key[] = [
      '..',
      '.',
      '../../x',
      '/abs',
      'a/b',
      'a\\b',
      'a\0b',
      '',
      'x'.repeat(300),
      'y'.repeat(300),
      '\ud800',
      '\ud801',
      1,
      '1',
      '#1',
      tuple('..', '..'),
      tuple('a/b'),
      tuple('a', 'b'),
      tuple('a+', 'b'),
      tuple('x'.repeat(300), 1),
    ];
    await p.append(keys.map((k, i) => [k, b(`v${i}`)] as const));
    const files = new Set(keys.map((k) => p.filename(k)));
    expect(files.size).toBe(keys.length);
    for (const f of files) {
      expect(path.relative(p.path, f).startsWith('..')).toBe(false);
      expect(path.basename(f).length).toBeLessThanOrEqual(255);
    }
    const onDisk = walk(p.path).filter((f) => !path.basename(f).startsWith('.') && !f.endsWith('~key'));
    expect(new Set(onDisk)).toEqual(files);
    await p.close();
  });

  it('rolls back a call whose lock holder died halfway (its journal), and ignores a journal torn while written', async () => {
    const dir = path.join(scratch(), 'store');
    const p = new File(dir);
    await p.append({ x: b('kept') });
    const [x, y] = [p.filename('x'), p.filename('y')];
    // what a holder killed halfway leaves: a journal (x had 4 bytes, y did not exist), and bytes written after it
    fs.writeFileSync(
      path.join(dir, '.journal'),
      JSON.stringify([
        [x, 4],
        [y, -1],
      ]),
    );
    fs.appendFileSync(x, 'half');
    fs.writeFileSync(y, 'half');
    const q = new File(dir);
    expect((await q.get(['x', 'y'])).map(str)).toEqual(['kept', '']);
    expect(fs.existsSync(y)).toBe(false);
    expect(fs.statSync(path.join(dir, '.journal')).size).toBe(0); // emptied, kept in place
    fs.writeFileSync(path.join(dir, '.journal'), `[["${x}", 4`); // torn before any value was written
    await q.append({ x: b('+') });
    expect(str(await p.get('x'))).toBe('kept+');
    await Promise.all([p.close(), q.close()]);
  });

  it('reopens a persistent directory with its data', async () => {
    const dir = path.join(scratch(), 'store');
    const p = new File(dir);
    await p.append({ x: b('kept') });
    await p.close();
    expect(fs.existsSync(dir)).toBe(true);
    const q = new File(dir);
    expect(str(await q.get('x'))).toBe('kept');
    await q.close();
  });
});

describe('Lmdb', () => {
  it('reopens a persistent directory with its data', async () => {
    const dir = path.join(scratch(), 'store');
    const p = new Lmdb(dir);
    await p.append({ x: b('kept'), [5]: b('five') });
    await p.close();
    const q = new Lmdb(dir);
    expect((await q.get(['x', '5'])).map(str)).toEqual(['kept', 'five']);
    await q.close();
  });

  it('grows its map as data grows (no MDB_MAP_FULL)', async () => {
    const p = new Lmdb();
    const piece = new Uint8Array(8 << 20).fill(7);
    for (let i = 0; i < 20; i++) await p.append({ [`k${i % 4}`]: piece, big: piece });
    const sizes = (await p.get(['k0', 'big'])).map((v) => v.length);
    expect(sizes).toEqual([5 * piece.length, 20 * piece.length]);
    await p.close();
  });

  it('keeps append order across its write log, compactions and direct writes', async () => {
    const p = new Lmdb();
    const model = new Map<string, string>();
    const add = (k: string, s: string) => model.set(k, (model.get(k) ?? '') + s);
    const big = 'B'.repeat(10_000); // a call of values this size skips the log
    // 5000 small calls pass the log's entry limit (4096), so it compacts on its own too.
    for (let i = 0; i < 5000; i++) {
      const call: [string, Uint8Array][] = [
        [`k${i % 7}`, b(`${i},`)],
        ['all', b(`${i};`)],
      ];
      if (i % 1000 === 999) call.push([`k${i % 7}`, b(big)], ['other', b(big)]);
      await p.append(call);
      for (const [k, v] of call) add(k, str(v));
      if (i % 1500 === 0) expect(str(await p.get('all'))).toBe(model.get('all')); // a read compacts mid-way
    }
    await p.delete('k3');
    model.delete('k3');
    await p.iset('k4', b('set'));
    model.set('k4', 'set');
    await p.append({ k4: b('+1') });
    add('k4', '+1');
    const keys = [...model.keys()].sort();
    expect((await p.get(keys)).map(str)).toEqual(keys.map((k) => model.get(k)));
    const seen: Key[] = [];
    for await (const k of p.keys()) seen.push(k);
    expect(seen.sort()).toEqual(keys);
    await p.close();
  });

  it('noSync: the default of a temporary store only (one at a path may be shared by processes)', async () => {
    const dir = path.join(scratch(), 'store');
    const opened = [
      new Lmdb(),
      new Lmdb(dir),
      new Lmdb(undefined, { noSync: false }),
      new Lmdb(path.join(scratch(), 's2'), { noSync: true }),
    ];
    expect(opened.map((s) => s.noSync)).toEqual([true, false, false, true]);
    for (const s of opened) {
      await s.append({ k: b('v') });
      expect(str(await s.get('k'))).toBe('v');
      await s.close();
    }
  });

  describe('value files (values of valueFiles bytes and up)', () => {
    const big = (c: string, n = 100_000) => b(c.repeat(n));
    const files = (p: Lmdb) => (fs.existsSync(path.join(p.path, 'values')) ? fs.readdirSync(path.join(p.path, 'values')) : []);

    it('hold large values outside the database, in append order with the small ones; delete and drop free them', async () => {
      const p = new Lmdb();
      await p.append([
        ['x', big('a')],
        ['x', b('|small|')],
        ['y', big('b', 70_000)],
      ]);
      await p.append({ x: big('c') });
      expect(files(p)).toHaveLength(1);
      expect(fs.statSync(path.join(p.path, 'values', files(p)[0]!)).size).toBe(270_000);
      expect((await p.get(['x', 'y'])).map(str)).toEqual(['a'.repeat(100_000) + '|small|' + 'c'.repeat(100_000), 'b'.repeat(70_000)]);
      const chunks: string[] = [];
      for await (const c of p.iterate('x')) chunks.push(str(c));
      expect(chunks.join('')).toBe(str(await p.get('x')));
      expect(str((await p.pop('y'))!)).toBe('b'.repeat(70_000));
      expect(files(p)).toHaveLength(1); // x still points into it
      await p.delete('x');
      expect(files(p)).toEqual([]); // nothing points into it: retired
      await p.append({ z: big('d') });
      expect(str(await p.get('z'))).toBe('d'.repeat(100_000));
      await p.drop();
      expect(files(p)).toEqual([]);
      await p.append({ z: big('e') }); // usable after drop, in a new file
      expect(str(await p.get('z'))).toBe('e'.repeat(100_000));
      await p.close();
    });

    it('a writer whose file another instance retired starts a new one; readers in other instances see every value', async () => {
      const dir = path.join(scratch(), 'store');
      const a = new Lmdb(dir);
      const other = new Lmdb(dir);
      await a.append({ x: big('a') });
      await other.delete('x'); // retires a's file
      expect(files(a)).toEqual([]);
      await a.append({ y: big('b') });
      await other.append({ y: big('c') });
      expect(files(a)).toHaveLength(2);
      const reader = new Lmdb(dir, { readOnly: true });
      expect(str(await reader.get('y'))).toBe('b'.repeat(100_000) + 'c'.repeat(100_000));
      expect(str(await reader.get('x'))).toBe('');
      await Promise.all([a.close(), other.close(), reader.close()]);
      const again = new Lmdb(dir);
      expect((await again.get('y')).length).toBe(200_000);
      await again.close();
    });

    it('iterate reads a large value in pieces of at most 16 MiB', async () => {
      const p = new Lmdb();
      const value = new Uint8Array(20 << 20).map((_, i) => i % 251);
      await p.append({ v: value });
      const pieces: Uint8Array[] = [];
      for await (const c of p.iterate('v')) pieces.push(c);
      expect(pieces.map((c) => c.length)).toEqual([16 << 20, 4 << 20]);
      expect(Buffer.concat(pieces).equals(value)).toBe(true);
      await p.close();
    });

    describe('a call of 16 x valueFiles bytes and more is written ahead, over two files at once', () => {
      const fill = (n: number, c: number) => new Uint8Array(n).fill(c);
      const call = (c: number) =>
        [
          ['x', fill(40_000, c)],
          ['s', b(`<${c}>`)],
          ['y', fill(30_000, c)],
          ['x', fill(20_000, c + 1)],
        ] as [string, Uint8Array][];
      const opts = { valueFiles: 1000 }; // from 16 kB a call

      it('in append order with the small values; deletes free both files', async () => {
        const p = new Lmdb(undefined, opts);
        await p.append(call(1));
        await p.append(call(3));
        expect(files(p)).toHaveLength(2);
        const [x, s, y] = await p.get(['x', 's', 'y']);
        expect(Buffer.from(x!).equals(Buffer.concat([fill(40_000, 1), fill(20_000, 2), fill(40_000, 3), fill(20_000, 4)]))).toBe(true);
        expect(str(s!)).toBe('<1><3>');
        expect(Buffer.from(y!).equals(Buffer.concat([fill(30_000, 1), fill(30_000, 3)]))).toBe(true);
        await p.delete(['x', 'y']);
        expect(files(p)).toEqual([]);
        await p.close();
      });

      it('later calls wait for it: a delete or a get made before it lands sees it', async () => {
        const p = new Lmdb(undefined, opts);
        const calls = [p.append(call(1)), p.get('y'), p.delete('y'), p.get(['x', 'y']), p.append({ y: b('!') })];
        const [, y, , xy] = (await Promise.all(calls)) as [void, Uint8Array, void, Uint8Array[]];
        expect(y.length).toBe(30_000);
        expect(xy.map((v) => v.length)).toEqual([60_000, 0]);
        expect(str(await p.get('y'))).toBe('!');
        await p.close();
      });

      it('writes again a value whose file another instance retired before the transaction', async () => {
        const dir = path.join(scratch(), 'store');
        const a = new Lmdb(dir, { ...opts, noSync: true }); // a synced store writes inside its transactions
        const other = new Lmdb(dir, { ...opts, noSync: true });
        await a.append(call(1)); // a's two files
        const pending = a.append(call(3)); // written ahead to those files
        await other.delete(['x', 'y']); // retires them before a's transaction
        await pending;
        expect(files(a)).toHaveLength(1); // written again, to a new file
        const [x, y] = await other.get(['x', 'y']);
        expect(Buffer.from(x!).equals(Buffer.concat([fill(40_000, 3), fill(20_000, 4)]))).toBe(true);
        expect(Buffer.from(y!).equals(fill(30_000, 3))).toBe(true);
        await a.append(call(5)); // and the next call uses two files again: that one and a new one
        expect(files(a)).toHaveLength(2);
        expect((await a.get('y')).length).toBe(60_000);
        await Promise.all([a.close(), other.close()]);
      });

      it('an appendIf while it is in the threadpool may close its file: it writes again, and no descriptor is left', async () => {
        const start = fds();
        const p = new Lmdb(undefined, { ...opts, valueFileMax: 40_000 });
        const writev = fs.writev;
        const late = jest
          .spyOn(fs, 'writev')
          .mockImplementation(((...args: Parameters<typeof fs.writev>) =>
            setTimeout(() => writev(...args), 50)) as unknown as typeof fs.writev);
        try {
          const pending = p.append(call(1)); // 40 kB in one file, 30 + 20 kB in the other, written 50 ms late
          p.appendIf({ z: fill(5000, 9) }, () => undefined); // the first file is full: a new one
          await pending;
        } finally {
          late.mockRestore();
        }
        const [x, z] = await p.get(['x', 'z']);
        expect(Buffer.from(x!).equals(Buffer.concat([fill(40_000, 1), fill(20_000, 2)]))).toBe(true);
        expect(Buffer.from(z!).equals(fill(5000, 9))).toBe(true);
        await p.close();
        expect(fds()).toBe(start);
      });
    });

    it('a refused appendIf leaves no pointer, and the next append lands where it belongs', async () => {
      const p = new Lmdb();
      await expect(async () =>
        p.appendIf({ x: big('a') }, () => {
          throw new Error('refused');
        }),
      ).rejects.toThrow('refused');
      expect((await p.get('x')).length).toBe(0);
      await p.append({ x: big('b') });
      expect(str(await p.get('x'))).toBe('b'.repeat(100_000));
      const before = fds();
      let seen = '';
      for (let i = 0; i < 20; i++) p.appendIf({ n: b(String(i)) }, (get) => void (seen = str(get('x')))); // the check reads a value file
      expect(seen).toBe('b'.repeat(100_000));
      expect(fds()).toBe(before); // and closes it
      await p.close();
    });

    describe('a new file every valueFileMax bytes; files less than half live are compacted', () => {
      const sizes = (p: Lmdb) =>
        files(p)
          .map((f) => fs.statSync(path.join(p.path, 'values', f)).size)
          .sort((x, y) => x - y);
      const value = (k: number) => new Uint8Array(5000).fill(k);
      const keys = Array.from({ length: 12 }, (_, k) => `k${k}`);
      const expectValues = async (p: Lmdb, gone: number[]) =>
        expect(
          (await p.get(keys)).map((v, k) => (gone.includes(k) ? v.length === 0 : v.length === 5000 && v.every((x) => x === k))),
        ).toEqual(keys.map(() => true));

      it('by the delete that leaves a file sparse; readers in other instances still see every value', async () => {
        const dir = path.join(scratch(), 'store');
        const p = new Lmdb(dir, { valueFiles: 1, valueFileMax: 12_000 });
        for (let k = 0; k < 12; k++) await p.append({ [`k${k}`]: value(k) }); // 3 values a file
        expect(sizes(p)).toEqual([15_000, 15_000, 15_000, 15_000]);
        const reader = new Lmdb(dir, { readOnly: true });
        await expectValues(reader, []);
        await p.delete(['k0', 'k1']); // its file keeps 5000 of 15000 bytes: k2 moves to a new file
        expect(sizes(p)).toEqual([5000, 15_000, 15_000, 15_000]);
        await p.delete(['k6']); // 10000 of 15000 live: left as it is
        expect(sizes(p)).toEqual([5000, 15_000, 15_000, 15_000]);
        await p.delete(['k7']);
        expect(sizes(p)).toEqual([10_000, 15_000, 15_000]);
        await expectValues(reader, [0, 1, 6, 7]);
        await expectValues(p, [0, 1, 6, 7]);
        await Promise.all([p.close(), reader.close()]);
        const again = new Lmdb(dir);
        await expectValues(again, [0, 1, 6, 7]);
        await again.close();
      });

      it('as its writer leaves it, when deletes hit it while it was being written', async () => {
        const p = new Lmdb(undefined, { valueFiles: 1, valueFileMax: 12_000 });
        for (let k = 0; k < 3; k++) await p.append({ [`k${k}`]: value(k) });
        await p.delete(['k0', 'k1']); // the writer's own file: not compacted yet
        expect(sizes(p)).toEqual([15_000]);
        await p.append({ k3: value(3) }); // a new file: k2 moves along, the old one is retired
        expect(sizes(p)).toEqual([10_000]);
        expect((await p.get(['k2', 'k3'])).map((v) => v.length)).toEqual([5000, 5000]);
        expect((await p.get('k2')).every((x) => x === 2)).toBe(true);
        await p.close();
      });

      it('never compacts a file with pointers it has no index of (written before the index existed)', async () => {
        const dir = path.join(scratch(), 'store');
        const p = new Lmdb(dir, { valueFiles: 1, valueFileMax: 12_000 });
        for (let k = 0; k < 6; k++) await p.append({ [`k${k}`]: value(k) });
        await p.close();
        const { open } = await import('lmdb');
        const raw = open<Buffer, Buffer>({ path: path.join(dir, 'data.mdb'), keyEncoding: 'binary', encoding: 'binary' });
        const index = Buffer.from([0, 0x72]);
        await raw.transaction(() => {
          for (const key of raw.getKeys({ start: index, end: Buffer.from([0, 0x73]) })) raw.removeSync(key);
        });
        await raw.close();
        const q = new Lmdb(dir, { valueFiles: 1, valueFileMax: 12_000 });
        await q.delete(['k0', 'k1']);
        expect(sizes(q)).toEqual([15_000, 15_000]); // left as it is
        expect((await q.get(['k2', 'k5'])).map((v) => v.length)).toEqual([5000, 5000]);
        await q.close();
      });

      it('iterate keeps reading a value whose file another instance compacts meanwhile', async () => {
        const dir = path.join(scratch(), 'store');
        const a = new Lmdb(dir, { valueFiles: 1, valueFileMax: 12_000 });
        const chunk = (c: number) => new Uint8Array(5000).fill(c);
        for (const [k, c] of [
          ['x', 1],
          ['f', 0],
          ['f', 0],
          ['x', 2],
          ['y', 0],
          ['z', 0],
          ['w', 0],
        ] as const)
          await a.append({ [k]: chunk(c) });
        // x's second chunk is in a file with y and z, which a has left for a new one
        const it = a.iterate('x')[Symbol.asyncIterator]();
        const first = await it.next();
        const other = new Lmdb(dir, { valueFiles: 1, valueFileMax: 12_000 });
        const before = files(other).length;
        await other.delete(['y', 'z']); // compacts that file: x's chunk moves, the file is unlinked
        expect(files(other).length).toBe(before); // one retired, one new
        const rest: Uint8Array[] = [];
        for (let r = await it.next(); !r.done; r = await it.next()) rest.push(r.value);
        expect(Buffer.concat([first.value as Uint8Array, ...rest]).equals(Buffer.concat([chunk(1), chunk(2)]))).toBe(true);
        expect(str(await a.get('x'))).toBe(str(Buffer.concat([chunk(1), chunk(2)])));
        await Promise.all([a.close(), other.close()]);
      });

      it('a synced store starts writing back large writes before the commit, and leaves no descriptor behind', async () => {
        const start = fds();
        const background = jest.spyOn(fs, 'fdatasync');
        try {
          const p = new Lmdb(path.join(scratch(), 'store'), { valueFileMax: 4 << 20 }); // at a path: synced
          expect(p.noSync).toBe(false);
          const big = (i: number) => new Uint8Array(3 << 20).fill(i);
          for (let i = 0; i < 6; i++) await p.append({ [`k${i % 2}`]: big(i) }); // a new file every other call
          expect(background.mock.calls.length).toBeGreaterThanOrEqual(6); // one per 2 MiB written
          const [k0, k1] = await p.get(['k0', 'k1']);
          expect([k0!.length, k1!.length]).toEqual([9 << 20, 9 << 20]);
          expect([0, 1, 2].map((j) => k0![j * (3 << 20)])).toEqual([0, 2, 4]);
          expect([0, 1, 2].map((j) => k1![(j + 1) * (3 << 20) - 1])).toEqual([1, 3, 5]);
          await p.close();
        } finally {
          background.mockRestore();
        }
        expect(fds()).toBe(start); // close waited for the last writebacks
      });

      it('valueFileMax: a number of bytes >= 1', () => {
        expect(() => new Lmdb(undefined, { valueFileMax: 0 })).toThrow(/^valueFileMax: expected a number of bytes >= 1, got 0$/);
      });
    });

    it('valueFiles: a number of bytes >= 1, or Infinity to keep every value in LMDB', async () => {
      expect(() => new Lmdb(undefined, { valueFiles: 0 })).toThrow(/^valueFiles: expected a number of bytes >= 1/);
      const p = new Lmdb(undefined, { valueFiles: Infinity });
      await p.append({ x: big('a') });
      expect(files(p)).toEqual([]);
      expect((await p.get('x')).length).toBe(100_000);
      await p.close();
    });
  });

  it('readOnly: reads what the log holds without writing, and refuses writes', async () => {
    const dir = path.join(scratch(), 'store');
    const writer = new Lmdb(dir);
    await writer.append({ x: b('a'), y: b('1') });
    await writer.get('x'); // compacted
    await writer.append({ x: b('b') });
    await writer.append({ x: b('c'), z: b('zz'), e: b('') }); // in the log only (an empty value makes no key)
    const reader = new Lmdb(dir, { readOnly: true });
    expect(reader.readOnly).toBe(true);
    const read = async () => {
      const chunks: string[] = [];
      for await (const c of reader.iterate('x')) chunks.push(str(c));
      const keys: Key[] = [];
      for await (const k of reader.keys()) keys.push(k);
      return { values: (await reader.get(['x', 'y', 'z', 'w'])).map(str), x: chunks.join(''), keys: keys.sort() };
    };
    const expected = { values: ['abc', '1', 'zz', ''], x: 'abc', keys: ['x', 'y', 'z'] };
    expect(await read()).toEqual(expected);
    const writes: [string, () => Promise<unknown>][] = [
      ['append', () => reader.append({ x: b('no') })],
      ['append', () => reader.append({ x: new Uint8Array(1 << 20), y: new Uint8Array(1 << 20) })], // large: would be written ahead
      ['iset', () => reader.iset('x', b('no'))],
      ['delete', () => reader.delete('x')],
      ['pop', () => reader.pop('x')],
      ['drop', () => reader.drop()],
    ];
    for (const [method, write] of writes) await expect(write()).rejects.toThrow(new RegExp(`^${method}: .*opened readOnly`));
    expect(fs.existsSync(path.join(dir, 'values'))).toBe(false); // no value file either
    expect(await read()).toEqual(expected);
    await writer.get('x'); // the writer compacts; the reader sees the same bytes
    expect(await read()).toEqual(expected);
    await reader.close();
    await writer.close();
  });
});

describe('opening a path that is not a store of that kind', () => {
  it.each([
    ['File', (d: string) => new File(d)],
    ['Lmdb', (d: string) => new Lmdb(d)],
  ])('%s refuses a directory with other files, a plain file, and the other kind', async (_, open) => {
    const dir = scratch();
    fs.writeFileSync(path.join(dir, 'precious.txt'), 'keep me');
    expect(() => open(dir)).toThrow(StoreKindError);
    expect(fs.readFileSync(path.join(dir, 'precious.txt'), 'utf8')).toBe('keep me');
    expect(() => open(path.join(dir, 'precious.txt'))).toThrow(/not a directory/);
    const other = path.join(scratch(), 'other');
    const store = _ === 'File' ? new Lmdb(other) : new File(other);
    await store.append({ x: b('1') });
    await store.close();
    expect(() => open(other)).toThrow(StoreKindError);
    const reopened = _ === 'File' ? new Lmdb(other) : new File(other);
    expect(str(await reopened.get('x'))).toBe('1');
    await reopened.close();
    expect(() => open('' as string)).toThrow(TypeError);
  });

  it.each([
    ['File', '.partd-file', (d: string) => new File(d)],
    ['Lmdb', '.partd-lmdb', (d: string) => new Lmdb(d)],
  ])('%s refuses a store in a newer format, or with a marker it did not write, and leaves it as it is', async (_, marker, open) => {
    const dir = path.join(scratch(), 'store');
    const store = open(dir);
    await store.append({ x: b('1') });
    await store.close();
    const file = path.join(dir, marker);
    const written = fs.readFileSync(file, 'utf8');
    expect(JSON.parse(written)).toEqual({ partd: _, version: 1 });
    fs.writeFileSync(file, JSON.stringify({ partd: _, version: 2 }));
    expect(() => open(dir)).toThrow(/is not a .* store \(it is in format 2, written by a newer partd; this one reads formats up to 1\)/);
    fs.writeFileSync(file, 'garbage');
    expect(() => open(dir)).toThrow(/marker is not one partd wrote/);
    fs.writeFileSync(file, written);
    const again = open(dir);
    expect(str(await again.get('x'))).toBe('1');
    await again.close();
  });
});

describe('temporary stores are removed however the process ends', () => {
  it.each(['natural', 'exit', 'throw', 'reject', 'SIGINT', 'SIGTERM'])('%s', async (how) => {
    const signal = how.startsWith('SIG') ? (how as NodeJS.Signals) : undefined;
    let dirs: string[] = [];
    const result = await runNode(fixture('temp-child.mjs'), [signal ? 'signal' : how], (line, child) => {
      const seen = JSON.parse(line) as [string, boolean][];
      expect(seen.map(([, existed]) => existed)).toEqual([true, true, true]);
      dirs = seen.map(([d]) => d);
      if (signal) child.kill(signal);
    });
    expect(dirs).toHaveLength(3);
    for (const d of dirs) expect(fs.existsSync(d)).toBe(false);
    if (signal) expect(result.signal).toBe(signal);
    else expect(result.code).toBe(how === 'throw' || how === 'reject' ? 1 : 0);
  });
});

describe('temporary stores of a process killed outright are removed by the next process that makes one', () => {
  /** Starts temp-child.mjs waiting for a signal; resolves with its directories once made, and its end. */
  function waiting(): Promise<{ dirs: string[]; kill: (s: NodeJS.Signals) => void; ended: Promise<unknown> }> {
    return new Promise((resolve) => {
      const ended = runNode(fixture('temp-child.mjs'), ['signal'], (line, child) => {
        const dirs = (JSON.parse(line) as [string, boolean][]).map(([d]) => d);
        resolve({ dirs, kill: (s) => child.kill(s), ended });
      });
    });
  }

  it('SIGKILL: its directories are removed when another process makes a temporary store; a live one’s stay', async () => {
    const killed = await waiting();
    const living = await waiting();
    killed.kill('SIGKILL');
    await killed.ended;
    const next = await runNode(fixture('temp-child.mjs'), ['exit']);
    expect(next.code).toBe(0);
    expect(killed.dirs.filter((d) => fs.existsSync(d))).toEqual([]);
    expect(living.dirs.filter((d) => fs.existsSync(d))).toEqual(living.dirs);
    living.kill('SIGTERM');
    await living.ended;
    expect(living.dirs.filter((d) => fs.existsSync(d))).toEqual([]);
  });

  it('a directory without an owner note, or one of another host, is left alone', async () => {
    const bare = lookalike();
    const foreign = lookalike();
    fs.writeFileSync(path.join(foreign, '.partd-owner'), JSON.stringify({ space: 'elsewhere x', pid: 1e9, start: '1' }));
    const next = await runNode(fixture('temp-child.mjs'), ['exit']);
    expect(next.code).toBe(0);
    expect([fs.existsSync(bare), fs.existsSync(foreign)]).toEqual([true, true]);
    fs.rmSync(bare, { recursive: true });
    fs.rmSync(foreign, { recursive: true });
  });
});
