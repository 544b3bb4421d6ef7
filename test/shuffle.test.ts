/** The shuffle: every record lands once, in its key's partition, for every input kind, worker count and P. */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import fs from 'node:fs';
import path from 'node:path';
import { Lmdb, Msgpack, partitionOf, shuffle, type ShuffleHandle } from '../src/index.js';
import { hashKey } from '../src/extend.js';
import { parse as parseCsv } from 'csv-parse/sync';
import { parseBlock, splitBlock } from '../src/shuffle/input/csv.js';
import { csvSample, csvSplits } from '../src/shuffle/input/csv-plan.js';
import { isPlainNumber, recordCuts, SAMPLE_ROWS, type ColumnType } from '../src/shuffle/input/csv-text.js';
import { fixture, runNode } from './support/child.js';
import { fixtureRecords, partitionReference } from './support/reference.js';
import { tempDirs } from './support/temp-dirs.js';

const mods = fixture('shuffle-modules.mjs');
type R = { id: number; key: string; amount: number; tag: string };
const tmp = tempDirs('partd-shuffle-');

async function partitionsOf<T extends { id: number }>(h: ShuffleHandle<T>): Promise<T[][]> {
  const out: T[][] = [];
  for (let p = 0; p < h.partitions; p++) out.push((await h.get(p)).sort((a, b) => a.id - b.id));
  return out;
}

describe('partitioner', () => {
  it('is FNV-1a 32 (published test vectors) mod P', () => {
    expect(hashKey('')).toBe(0x811c9dc5);
    expect(hashKey('a')).toBe(0xe40c292c);
    expect(hashKey('foobar')).toBe(0xbf9cf968);
    expect(partitionOf('foobar', 7)).toBe(0xbf9cf968 % 7);
  });

  it('gives the same partitions in another process', async () => {
    const keys = ['user1', 'user99999', '', 'ü', 42, 0];
    const script = path.join(tmp(), 'p.mjs');
    fs.writeFileSync(
      script,
      `import { partitionOf } from ${JSON.stringify(path.resolve('dist/src/index.js'))};\nconsole.log(JSON.stringify(${JSON.stringify(keys)}.map((k) => partitionOf(k, 128))));`,
    );
    const r = await runNode(script, []);
    expect(JSON.parse(r.stdout)).toEqual(keys.map((k) => partitionOf(k, 128)));
  });
});

describe('generator input', () => {
  const N = 20_000;
  const ref = fixtureRecords(0, N);
  it.each([
    [1, 1],
    [1, 7],
    [2, 7],
    [2, 128],
    [1, 128],
  ])("workers=%i P=%i: every record once, in its key's partition", async (workers, P) => {
    await using h = await shuffle<R>({
      input: { generate: { module: mods, export: 'records' }, count: N },
      key: 'key',
      partitions: P,
      workers,
    });
    expect(h.stats.records).toBe(N);
    expect(await partitionsOf(h)).toEqual(partitionReference(ref, (r) => r.key, P));
    // the store is a partd store: partition p is key p, read through Msgpack
    const direct = await new Msgpack<R>(h.store).get(0);
    expect(direct.length).toBe((await h.get(0)).length);
  });

  it.each([
    [1, 7],
    [2, 128],
  ])('make (one call per record), workers=%i P=%i: the same partitions as generate', async (workers, P) => {
    await using h = await shuffle<R>({ input: { make: { module: mods, export: 'record' }, count: N }, key: 'key', partitions: P, workers });
    expect(h.stats.records).toBe(N);
    expect(await partitionsOf(h)).toEqual(partitionReference(ref, (r) => r.key, P));
  });

  it('puts a key in the same partition whatever the worker count', async () => {
    const runs = [];
    for (const workers of [1, 2]) {
      await using h = await shuffle<R>({
        input: { generate: { module: mods, export: 'records' }, count: 5000 },
        key: 'key',
        partitions: 16,
        workers,
      });
      runs.push((await partitionsOf(h)).map((p) => [...new Set(p.map((r) => r.key))].sort()));
    }
    expect(runs[0]).toEqual(runs[1]);
  });

  it('splits: as asked, or by default about 16 per worker of 50k to 1M records', async () => {
    for (const [splits, workers] of [
      [5, 2],
      [1, 2],
      [3, 1],
    ]) {
      await using h = await shuffle<R>({
        input: { generate: { module: mods, export: 'records' }, count: N },
        splits,
        key: 'key',
        partitions: 7,
        workers,
      });
      expect([h.stats.splits, h.stats.records]).toEqual([splits, N]);
      expect(await partitionsOf(h)).toEqual(partitionReference(ref, (r) => r.key, 7));
    }
    const planned = async (count: number, workers: number) => {
      await using h = await shuffle({
        input: { generate: { module: mods, export: 'nothing' }, count },
        key: 'key',
        partitions: 2,
        workers,
      });
      return h.stats.splits;
    };
    expect([
      await planned(N, 2),
      await planned(100_000, 1),
      await planned(8_000_000, 1),
      await planned(20_000_000, 2),
      await planned(50_000_001, 2),
    ]).toEqual([1, 2, 16, 32, 51]);
  });

  it('hands splits out one at a time: a slow thread reads fewer of them, every record still once', async () => {
    await using h = await shuffle<{ id: number; thread: number }>({
      input: { generate: { module: mods, export: 'byThread' }, count: 10_000 },
      splits: 10,
      key: 'key',
      partitions: 3,
      workers: 2,
    });
    const splitsBy = new Map<number, Set<number>>(); // thread → the splits (of 1000 records) it read
    const ids = (await partitionsOf(h)).flat().map((r) => {
      splitsBy.set(r.thread, (splitsBy.get(r.thread) ?? new Set()).add(Math.floor(r.id / 1000)));
      return r.id;
    });
    expect(ids.sort((a, b) => a - b)).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
    const slow = [...splitsBy.values()].find((s) => s.has(0))!;
    expect(slow.size).toBeLessThan(5); // with one half each, it would read 5
    expect([...splitsBy.values()].reduce((n, s) => n + s.size, 0)).toBe(10);
  });

  it('an abort during the gather lets running gather tasks finish, then rejects with AbortError', async () => {
    const controller = new AbortController();
    await using h = await shuffle<R>({
      input: { generate: { module: mods, export: 'records' }, count: 4000 },
      key: 'key',
      partitions: 8,
      workers: 2,
      signal: controller.signal,
    });
    const t0 = Date.now();
    setTimeout(() => controller.abort(), 150);
    await expect(h.gather({ module: mods, export: 'slowCount' })).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(await h.gather({ module: mods, export: 'countIds' }).catch((e: Error) => e.name)).toBe('AbortError'); // the job stays aborted
  });

  it('takes the key from a function module', async () => {
    await using h = await shuffle<R>({
      input: { generate: { module: mods, export: 'records' }, count: 3000 },
      key: { module: mods, export: 'tagParity' },
      partitions: 5,
      workers: 2,
    });
    expect(await partitionsOf(h)).toEqual(partitionReference(fixtureRecords(0, 3000), (r) => `${r.tag}:${r.id % 2}`, 5));
  });

  it('iterates a partition in batches and gathers in the workers', async () => {
    await using h = await shuffle<R>({
      input: { generate: { module: mods, export: 'records' }, count: 9000 },
      key: 'key',
      partitions: 3,
      workers: 2,
    });
    let n = 0;
    for await (const batch of h.iterate(1)) n += batch.length;
    expect(n).toBe((await h.get(1)).length);
    const gathered = await h.gather<{ partition: number; ids: number[] }>({ module: mods, export: 'countIds' });
    expect(gathered.map((g) => g.partition)).toEqual([0, 1, 2]);
    expect(gathered.map((g) => g.ids)).toEqual((await partitionsOf(h)).map((p) => p.map((r) => r.id)));
  });
});

describe('worker threads decode strings in JS', () => {
  // msgpackr-extract's init rewrites a table all threads share (src/shuffle/runtime/thread-env.ts)
  it('scatter and gather threads have msgpackr native string extraction off', async () => {
    const { isNativeAccelerationEnabled } = await import('msgpackr');
    expect(isNativeAccelerationEnabled).toBe(true); // this process: on, so the check below can fail
    await using h = await shuffle<{ native: boolean[] }>({
      input: { generate: { module: mods, export: 'nativeStringRecords' }, count: 4000 },
      key: 'key',
      partitions: 4,
      workers: 2,
    });
    const scattered = new Set((await h.get(0)).map((r) => JSON.stringify(r.native)));
    const gathered = new Set((await h.gather<boolean[]>({ module: mods, export: 'nativeStringsReducer' })).map((r) => JSON.stringify(r)));
    // one flag per msgpackr copy found (the package's, and lmdb-js's own when it has one): every one off
    const off = JSON.stringify(JSON.parse([...scattered][0]!).map(() => false));
    expect({ scattered: [...scattered], gathered: [...gathered] }).toEqual({ scattered: [off], gathered: [off] });
  });
});

describe('file inputs', () => {
  const N = 60_000; // about 6 MB of NDJSON: several 1 MiB splits, so lines cross split boundaries
  // Some records in the middle hold multi-byte characters: those blocks are decoded line by line, the others at once.
  const wide = (id: number) => (id >= 20_000 && id < 24_000 && id % 3 === 0 ? 'é€😀' : '');
  const ref = fixtureRecords(0, N).map((r) => ({ ...r, note: wide(r.id) + 'x'.repeat(r.id % 90) }));

  it('NDJSON: lines crossing split boundaries belong to exactly one split', async () => {
    const file = path.join(tmp(), 'in.ndjson');
    fs.writeFileSync(file, ref.map((r) => JSON.stringify(r)).join('\n') + '\n');
    for (const workers of [1, 2]) {
      await using h = await shuffle<(typeof ref)[0]>({ input: { ndjson: file }, key: 'key', partitions: 7, workers });
      expect(h.stats.splits).toBeGreaterThan(2);
      expect(await partitionsOf(h)).toEqual(partitionReference(ref, (r) => r.key, 7));
    }
    await using h = await shuffle<(typeof ref)[0]>({ input: { ndjson: file }, splits: 13, key: 'key', partitions: 7, workers: 2 });
    expect(h.stats.splits).toBe(13);
    expect(await partitionsOf(h)).toEqual(partitionReference(ref, (r) => r.key, 7));
  });

  it.each([['\n'], ['\r\n']])('CSV: quoted commas, quotes and newlines inside fields, lines ending in %j', async (nl) => {
    const file = path.join(tmp(), 'in.csv');
    const rows = ref.map((r) => ({
      id: r.id,
      key: r.key,
      amount: r.amount,
      tag: r.id % 5 === 0 ? `say "hi", then${nl}leave ${r.id}` : r.tag,
    }));
    const quote = (v: unknown) => (typeof v === 'string' && /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : String(v));
    fs.writeFileSync(file, `id,key,amount,tag${nl}` + rows.map((r) => [r.id, r.key, r.amount, r.tag].map(quote).join(',')).join(nl) + nl);
    for (const workers of [1, 2]) {
      await using h = await shuffle<(typeof rows)[0]>({ input: { csv: file }, key: 'key', partitions: 7, workers });
      expect(h.stats.splits).toBeGreaterThan(1);
      expect(await partitionsOf(h)).toEqual(partitionReference(rows, (r) => r.key, 7));
    }
  });
});

describe('CSV parsed in blocks cut at record ends', () => {
  const quote = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

  it('recordCuts: the pieces parse to the same rows as the whole (fast-check)', () => {
    const field = fc.string({ unit: fc.constantFrom('a', 'b', ',', '"', '\n', ' '), maxLength: 6 });
    fc.assert(
      fc.property(
        fc.array(fc.array(field, { minLength: 2, maxLength: 2 }), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 40 }),
        (rows, every) => {
          const buf = Buffer.from(rows.map((r) => r.map(quote).join(',')).join('\n') + '\n');
          const cuts = recordCuts(buf, every);
          let from = 0;
          const pieces = [...cuts, buf.length].flatMap((to) => {
            const rowsOfPiece = parseCsv(buf.subarray(from, to), { relax_column_count: true }) as string[][];
            from = to;
            return rowsOfPiece;
          });
          expect(pieces).toEqual(parseCsv(buf, { relax_column_count: true }));
          for (let i = 1; i < cuts.length; i++) expect(cuts[i]! - cuts[i - 1]!).toBeGreaterThanOrEqual(every);
        },
      ),
    );
  });

  it('csvSample: the header and inferred columns of reading the first 4 MiB at once, though it reads 64 KiB first (fast-check)', () => {
    // The reference: the former csvSample, the first 4 MiB read whole.
    const reference = (file: string) => {
      const buf = fs.readFileSync(file).subarray(0, 4 << 20);
      const cuts = recordCuts(buf, 1);
      const header = (parseCsv(buf.subarray(0, cuts[0] ?? buf.length), { to_line: 1, bom: true }) as string[][])[0]!;
      const whole = cuts.at(-1) === buf.length ? buf : buf.subarray(0, cuts.at(-1) ?? 0);
      const opts = { bom: true, relax_column_count: true, skip_empty_lines: true, skip_records_with_error: true, to: SAMPLE_ROWS + 1 };
      const [, ...rows] = parseCsv(whole, opts) as string[][];
      const numeric = header.filter((_, i) => {
        const vs = rows.map((r) => r[i]).filter((v) => v !== undefined && v !== '');
        return vs.length > 0 && vs.every((v) => isPlainNumber(v!));
      });
      return { header, numeric };
    };
    const short = fc.constantFrom('1', '2.5', '-3', '007', '', 'a', 'x y', '1e3');
    const long = fc.integer({ min: 50, max: 400 }).map((n) => 'w'.repeat(n)); // rows long enough that 64 KiB holds fewer than 1000
    const field = fc.oneof({ weight: 3, arbitrary: short }, long, fc.constantFrom('a"b', '"q"', 'two\nlines', 'c,d'));
    const raw = fc.constantFrom('x"y', '"open', '"a"b'); // written as is: malformed rows
    const number = fc.oneof({ weight: 300, arbitrary: fc.constantFrom('1', '2.5', '-3', '') }, fc.constant('z')); // c: numbers, now and then not
    const row = fc.oneof(
      { weight: 20, arbitrary: fc.tuple(field, field, number).map((fs_) => fs_.map(quote).join(',')) },
      fc.tuple(short, raw).map(([a, b]) => `${a},${b},1`),
      fc.constant(''),
    );
    const dir = tmp();
    let run = 0;
    let large = 0;
    fc.assert(
      fc.property(fc.array(row, { maxLength: 1500, size: 'max' }), fc.boolean(), (rows, trailing) => {
        const file = path.join(dir, `sample${run++}.csv`);
        fs.writeFileSync(file, 'a,b,c\n' + rows.join('\n') + (trailing ? '\n' : ''));
        if (fs.statSync(file).size > 64 << 10) large++;
        const got = csvSample(file);
        const want = reference(file);
        expect({ header: got.header, numeric: [...got.numeric] }).toEqual(want);
      }),
      { numRuns: 60 },
    );
    expect(large).toBeGreaterThan(10); // files that take more than the first 64 KiB read
  });

  it('csvSample reads on past 64 KiB while it holds fewer than 1000 rows: a misfit in row 900 is seen', () => {
    const dir = tmp();
    const wide = path.join(dir, 'wide.csv');
    // rows of ~200 bytes: row 900 is past the first 64 KiB, still among the first 1000
    const rows = Array.from({ length: 2000 }, (_, i) => `${'w'.repeat(200)},${i},${i === 900 ? 'z' : i}`);
    fs.writeFileSync(wide, 'a,b,c\n' + rows.join('\n') + '\n');
    expect([...csvSample(wide).numeric]).toEqual(['b']);
    rows[1100] = `x,y,z`; // past the sample: not seen
    fs.writeFileSync(wide, 'a,b,c\n' + rows.join('\n').replace(',900,z', ',900,900') + '\n');
    expect([...csvSample(wide).numeric]).toEqual(['b', 'c']);
  });

  it('csvSplits: the same splits as a byte-by-byte scan, whatever the read block size (fast-check)', () => {
    // The reference: the straightforward scan csvSplits replaced (one byte at a time).
    const reference = (text: Buffer, per: number) => {
      const cuts: [number, number, number][] = []; // [start, end, line]
      let inQuotes = false;
      let line = 1;
      let start = -1;
      let startLine = 0;
      for (let i = 0; i < text.length; i++) {
        if (text[i] === 0x22) inQuotes = !inQuotes;
        else if (text[i] === 0x0a) {
          line++;
          if (inQuotes) continue;
          if (start < 0) [start, startLine] = [i + 1, line];
          else if (i + 1 - start >= per) {
            cuts.push([start, i + 1, startLine]);
            [start, startLine] = [i + 1, line];
          }
        }
      }
      if (start >= 0 && start < text.length) cuts.push([start, text.length, startLine]);
      return cuts;
    };
    const field = fc.string({ unit: fc.constantFrom('a', ',', '"', '\n', '1'), maxLength: 5 });
    const dir = tmp();
    let run = 0;
    fc.assert(
      fc.property(
        fc.array(fc.array(field, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 25 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 16 }),
        (rows, per, blockSize) => {
          const text = Buffer.from('h1,h2\n' + rows.map((r) => r.map(quote).join(',')).join('\n') + '\n');
          const file = path.join(dir, `s${run++}.csv`);
          fs.writeFileSync(file, text);
          const splits = csvSplits(file, per, 0, blockSize) as { start: number; end: number }[];
          // the line a split starts on is counted by the worker when needed: the newlines before it, as lineOf counts them
          const line = (start: number) => 1 + text.subarray(0, start).toString('latin1').split('\n').length - 1;
          expect(splits.map((x) => [x.start, x.end, line(x.start)])).toEqual(reference(text, per));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('parseBlock: a block split directly equals csv-parse (records, casts, quotes, errors and lines; fast-check)', () => {
    const text = fc.string({
      unit: fc.constantFrom('a', '1', '2', '0', '.', '-', '+', ' ', 'e', 'x', 'é', ',', '\n', '"', '\r'),
      maxLength: 5,
    });
    // Mostly well-formed fields, quoted or not; then a quote inside an unquoted field, a character
    // after a closing quote, and raw text (stray quotes, commas, newlines, carriage returns).
    const plain = text.filter((t) => !/[",\n\r]/.test(t));
    const quoted = text.map((t) => `"${t.replaceAll('"', '""')}"`);
    const field = fc.oneof(
      { weight: 6, arbitrary: plain },
      { weight: 6, arbitrary: quoted },
      { weight: 1, arbitrary: fc.tuple(plain, plain).map(([a, b]) => `x${a}"${b}`) },
      { weight: 1, arbitrary: fc.tuple(quoted, plain).map(([q, a]) => `${q}y${a}`) },
      { weight: 1, arbitrary: text },
    );
    const row = fc.oneof(
      { weight: 4, arbitrary: fc.array(field, { minLength: 3, maxLength: 3 }) },
      fc.array(field, { minLength: 1, maxLength: 4 }),
    );
    const rows = fc.array(row, { maxLength: 30 });
    fc.assert(
      // each line's own ending: a file of LF rows may have CRLF rows appended
      fc.property(rows, fc.array(fc.constantFrom('\n', '\r\n'), { minLength: 30, maxLength: 30 }), fc.boolean(), (rs, ends, trailing) => {
        const block = Buffer.from(rs.map((r, i) => r.join(',') + (i < rs.length - 1 || trailing ? ends[i] : '')).join(''));
        const read = (fast: boolean) =>
          parseBlock(block, { columns: ['a', 'b', 'c'], types: ['inferred', 'string', 'number'] }, { file: 'f.csv', line: 10 }, fast).map(
            (x) => (x instanceof Error ? x.message : x),
          );
        expect(read(true)).toEqual(read(false));
      }),
      { numRuns: 2000 },
    );
  });

  it('splitBlock reads quoted fields itself, newlines inside them too, and leaves malformed blocks to csv-parse', () => {
    const cols = { columns: ['a', 'b', 'c'], types: ['number', 'string', 'string'] as ColumnType[] };
    const where = { file: 'f.csv', line: 1 };
    expect(splitBlock('1,"x, ""y""",z\n\n"2","multi\n\nline",\n', cols, where)).toEqual([
      { a: 1, b: 'x, "y"', c: 'z' },
      { a: 2, b: 'multi\n\nline', c: '' },
    ]);
    expect(splitBlock('1,"x\r\ny",z\r\n\r\n2,,\n3,a\rb,c\r\n4,,\r', cols, where)).toEqual([
      { a: 1, b: 'x\r\ny', c: 'z' },
      { a: 2, b: '', c: '' },
      { a: 3, b: 'a\rb', c: 'c' }, // a lone \r is data
      { a: 4, b: '', c: '\r' }, // as is one with no \n after it
    ]);
    for (const bad of ['1,"x"y,z\n', '1,x"y,z\n', '1,"never closed,z\n', '1,2\n']) expect(splitBlock(bad, cols, where)).toBeUndefined();
  });

  it('an unclosed quote is named by the line where its record starts, not the end of the block', () => {
    const rows = [
      'a,1,x',
      ...Array.from({ length: 30 }, (_, i) => `b,${i},y`),
      'c,2,"never closed',
      ...Array.from({ length: 8 }, (_, i) => `d,${i},z`),
    ];
    const items = parseBlock(
      Buffer.from(rows.join('\n') + '\n'),
      { columns: ['k', 'n', 't'], types: ['string', 'string', 'string'] },
      { file: 'q.csv', line: 2 },
    );
    expect(items.filter((x) => x instanceof Error).map((e) => (e as Error).message)).toEqual([
      'q.csv line 33: Quote Not Closed: the parsing is finished with an opening quote',
    ]);
    expect(items.length).toBe(32); // the 31 rows before it, then the error: the quote swallows the rest
  });

  it('fields become values by their column type: strings as written, numbers from numeric text, the line of a misfit named', () => {
    const table = { columns: ['k', 'n', 'i'], types: ['string', 'number', 'inferred'] as ColumnType[] };
    const block = Buffer.from('007,007,7\n0x10,2e3,-1.5\n1.0,,\n"x\ny",-.5,1e3\n7,+5,00501\n7,1;000,7\n');
    for (const fast of [true, false]) {
      const items = parseBlock(block, table, { file: 'f.csv', line: 2 }, fast).map((x) => (x instanceof Error ? x.message : x));
      expect(items).toEqual([
        { k: '007', n: 7, i: 7 },
        { k: '0x10', n: 2000, i: -1.5 },
        { k: '1.0', n: null, i: null },
        { k: 'x\ny', n: -0.5, i: 1000 },
        expect.stringMatching(/^f\.csv line 7: column "i": expected a number \(its column was inferred .* types: \{ "i": 'string' \}\)$/),
        expect.stringMatching(/^f\.csv line 8: column "n": expected a number$/),
      ]);
    }
  });

  it('a split of several blocks keeps every record, and a bad row late in it is named by its line', async () => {
    const file = path.join(tmp(), 'big.csv');
    const lines = ['id,key,tag'];
    const N = 500_000; // ~10 MB: one worker cuts ~2.5 MB splits, each parsed in several 1 MiB blocks
    for (let i = 0; i < N; i++) lines.push(`${i},k${i % 50},${quote(i % 1000 === 0 ? `two\nlines ${i}` : `t${i}`)}`);
    fs.writeFileSync(file, lines.join('\n') + '\n');
    await using h = await shuffle<{ id: number; key: string; tag: string }>({
      input: { csv: file },
      key: 'key',
      partitions: 4,
      workers: 1,
    });
    expect(h.stats.records).toBe(N);
    const ids = (await Promise.all([0, 1, 2, 3].map((p) => h.get(p))))
      .flat()
      .map((r) => r.id)
      .sort((a, b) => a - b);
    expect(ids).toEqual(Array.from({ length: N }, (_, i) => i));
    const badAt = 470_000; // row index, in a later block of its split; its line counts the header and the quoted newlines before it
    lines[badAt + 1] = `${badAt},k0,x,extra`;
    fs.writeFileSync(file, lines.join('\n') + '\n');
    const line =
      lines
        .slice(0, badAt + 1)
        .join('\n')
        .split('\n').length + 1;
    await expect(shuffle({ input: { csv: file }, key: 'key', partitions: 4, workers: 1 })).rejects.toThrow(
      new RegExp(`${file} line ${line}: expected 3 fields \\(id, key, tag\\), got 4$`),
    );
  });
});

describe('records from the calling thread', () => {
  it('sync and async iterables, in batches', async () => {
    const recs = fixtureRecords(0, 25_000);
    async function* gen() {
      yield* recs;
    }
    for (const records of [recs, gen()]) {
      await using h = await shuffle<R>({ input: { records }, key: 'key', partitions: 7, workers: 2 });
      expect(h.stats.splits).toBe(3);
      expect(await partitionsOf(h)).toEqual(partitionReference(recs, (r) => r.key, 7));
    }
  });

  it('random records, keys and P equal a single-thread reference (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.string({ maxLength: 5 }), fc.nat({ max: 30 })), { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 2 }),
        async (keys, P, workers) => {
          const recs = keys.map((key, id) => ({ id, key }));
          await using h = await shuffle<{ id: number; key: string | number }>({
            input: { records: recs },
            key: 'key',
            partitions: P,
            workers,
          });
          expect(await partitionsOf(h)).toEqual(partitionReference(recs, (r) => r.key, P));
        },
      ),
      { numRuns: 12 },
    );
  });
});

describe('a persistent store', () => {
  it('stays after drop of the handle only as an empty store, and reopens', async () => {
    const dir = path.join(tmp(), 'store');
    const h = await shuffle<R>({
      input: { generate: { module: mods, export: 'records' }, count: 1000 },
      key: 'key',
      partitions: 4,
      workers: 1,
      store: dir,
    });
    const first = await h.get(2);
    const again = new Msgpack<R>(new Lmdb(dir));
    expect((await again.get(2)).length).toBe(first.length);
    await again.close();
    await h.drop();
    expect(fs.existsSync(dir)).toBe(true);
  });
});
