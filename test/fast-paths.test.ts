/**
 * The fast paths of file input (input/csv-fast.ts, input/ndjson-fast.ts, groupby/byte-keys.ts,
 * groupby/byte-groups.ts): a CSV block one takes reads exactly as csv-parse reads it, an NDJSON
 * line exactly as JSON.parse does, and groupBy over files where some blocks or lines take it and
 * some do not equals the independent reference of test/support/exact-reference.ts.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { groupBy, type GroupByOptions, type Groups } from '../src/index.js';
import { fastShape, scanFast } from '../src/shuffle/input/csv-fast.js';
import { growRows, keyedRows } from '../src/shuffle/input/splits.js';
import { jsonShape, scanLine } from '../src/shuffle/input/ndjson-fast.js';
import { parseBlock } from '../src/shuffle/input/csv.js';
import type { ColumnType } from '../src/shuffle/input/csv-text.js';
import { ByteKeys, hashBytes } from '../src/shuffle/groupby/byte-keys.js';
import { withFaults } from '../src/shuffle/runtime/faults.js';
import { hashKey } from '../src/extend.js';
import { fieldOf, reference, sortRows, type Agg, type ColType } from './support/exact-reference.js';
import { fieldReader } from '../src/shuffle/input/fields.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'partd-csv-fast-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('scanFast', () => {
  const table = { columns: ['id', 'key', 'amount', 'n'], types: ['string', 'string', 'number', 'inferred'] as ColumnType[] };
  const shape = fastShape(table, 'key', ['n', 'amount'])!;

  it('reads a block it takes exactly as csv-parse does: keys, numbers (-0 too), rows (fast-check)', () => {
    const digits = fc.string({ unit: fc.constantFrom('0', '1', '5', '9'), minLength: 1, maxLength: 6 });
    const number = fc.oneof(
      {
        weight: 30,
        arbitrary: fc.tuple(fc.integer({ min: -1e6, max: 1e6 }), fc.option(digits)).map(([i, d]) => `${i}${d === null ? '' : `.${d}`}`),
      },
      { weight: 2, arbitrary: fc.tuple(fc.boolean(), digits, digits).map(([neg, a, b]) => `${neg ? '-' : ''}${a}${b}${b}${a}.${b}`) },
      { weight: 1, arbitrary: fc.constantFrom('', '+1', '.5', '5.', '1e3', ' 1', '0x10', '-', 'NaN', '1.2.3', '007', '-0', '-0.0') },
    );
    const text = fc.string({
      unit: fc.oneof({ weight: 30, arbitrary: fc.constantFrom('a', 'é', '€', ' ', '1', '\xff') }, fc.constantFrom('"', ',', '\r')),
      maxLength: 6,
    });
    const row = fc.oneof(
      { weight: 40, arbitrary: fc.tuple(text, text, number, number).map((f) => f.join(',')) },
      { weight: 1, arbitrary: fc.array(text, { maxLength: 5 }).map((f) => f.join(',')) },
      { weight: 1, arbitrary: fc.constant('') },
    );
    let taken = 0;
    const ends = fc.array(fc.constantFrom('\n', '\r\n'), { minLength: 8, maxLength: 8 }); // each line's own
    fc.assert(
      fc.property(fc.array(row, { minLength: 1, maxLength: 8 }), ends, fc.boolean(), (rows, ends, trailing) => {
        const block = Buffer.from(rows.map((r, i) => r + (i < rows.length - 1 || trailing ? ends[i] : '')).join(''), 'latin1');
        const out = keyedRows();
        if (!scanFast(block, shape, out)) return;
        taken++;
        const records = parseBlock(block, table, { file: 'f.csv', line: 1 }, false); // csv-parse's reading
        expect(records.filter((r) => r instanceof Error)).toEqual([]);
        expect(out.count).toBe(records.length);
        expect(out.lines).toBe(block.toString('latin1').split('\n').length - 1);
        records.forEach((record, r) => {
          const { key, amount, n } = record as Record<string, unknown>;
          expect(block.subarray(out.keyFrom[r], out.keyTo[r]).toString('utf8')).toBe(key);
          expect(out.keyHash[r]).toBe(hashBytes(block, out.keyFrom[r]!, out.keyTo[r]!)); // hashed as read
          expect(Object.is(out.values[2 * r], n)).toBe(true);
          expect(Object.is(out.values[2 * r + 1], amount)).toBe(true);
        });
      }),
      { numRuns: 3000 },
    );
    expect(taken).toBeGreaterThan(300); // the property says something about the fast path
  });

  it('leaves to the general path: quotes, stray carriage returns, ragged rows, numbers it cannot convert exactly', () => {
    const takes = (text: string) => scanFast(Buffer.from(text), shape, keyedRows());
    expect(takes('1,a,2.5,3\n2,b,-4,0\n\n')).toBe(true);
    expect(takes('1,a,2.5,3\r\n2,b,-4,0\r\n')).toBe(true);
    expect(takes('1,a,2.5,3\r\n2,b,-4,0\n\r\n3,c,1,1')).toBe(true);
    for (const text of [
      '1,"a",2.5,3\n',
      '1,a,2.5,3\r2,b,-4,0\n',
      '1,a,2.5,3\r',
      '1,a\r,2.5,3\n',
      '1,a,2.5\n',
      '1,a,2.5,3,4\n',
      '1,a,1234567890123456,3\n',
      '1,a,2.5,007\n',
      '1,a,,3\n',
      '1,a,1e3,3\n',
    ])
      expect([text, takes(text)]).toEqual([text, false]);
  });

  it('is not used for a typed key column or a string value column', () => {
    expect(fastShape({ columns: ['k', 'v'], types: ['number', 'number'] }, 'k', ['v'])).toBeUndefined();
    expect(fastShape({ columns: ['k', 'v'], types: ['string', 'string'] }, 'k', ['v'])).toBeUndefined();
    expect(fastShape({ columns: ['k', 'v'], types: ['string', 'number'] }, 'k', ['v'])).toBeDefined();
  });
});

describe('scanLine (NDJSON)', () => {
  const shape = jsonShape('key', ['amount', 'n'])!;

  it('reads a line it takes exactly as JSON.parse does, and takes most plain lines (fast-check)', () => {
    const number = fc.oneof(
      { weight: 8, arbitrary: fc.integer({ min: -1e6, max: 1e6 }).map(String) },
      { weight: 8, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)) },
      { weight: 1, arbitrary: fc.constantFrom('-0', '1e3', '1E+2', '0.1e-1', '12345678901234567', '"5"', 'null', 'true', '[1]', '{}') },
    );
    const text = fc.string({ unit: fc.constantFrom('\x1f', '\x01', 'a', 'é', '\\', '"', '\\u00e9', '\\n', ' ', '\t'), maxLength: 5 });
    const other = fc.oneof(
      number,
      text.map((t) => `"${t}"`),
      fc.constant('{"a":[1,{"b":null}],"c":"}"}'),
      fc.constant('[]'),
    );
    const field = fc.oneof(
      { weight: 6, arbitrary: fc.tuple(fc.constantFrom('key', 'amount', 'n', 'id', 'tag', 'k\\u0065y', ''), other) },
      {
        weight: 3,
        arbitrary: fc.tuple(
          fc.constant('key'),
          text.map((t) => `"${t}"`),
        ),
      },
      { weight: 3, arbitrary: fc.tuple(fc.constantFrom('amount', 'n'), number) },
    );
    const space = fc.constantFrom('', ' ', '\t', '\r');
    const line = fc
      .tuple(fc.array(fc.tuple(field, space), { maxLength: 6 }), space, fc.option(fc.nat(40)), fc.string({ maxLength: 2 }))
      .map(([fields, sp, cut, junk]) => {
        const base = `{${sp}${fields.map(([[k, v], s]) => `"${k}"${s}:${s}${v}`).join(`,${sp}`)}}${sp}`;
        return cut === null ? base : base.slice(0, cut) + junk + base.slice(cut); // damaged now and then
      });
    let taken = 0;
    const cents = fc.integer({ min: -1e9, max: 1e9 }).map((c) => c / 100);
    const plain = fc
      .tuple(text, cents, fc.integer(), other)
      .map(([key, amount, n, tag]) => `{"id":1,"key":"${key}","amount":${amount},"n":${n},"tag":{"x":[${tag}]}}`);
    fc.assert(
      fc.property(fc.oneof(line, plain), (text) => {
        const buf = Buffer.from(`x${text}y`);
        const rows = keyedRows();
        growRows(rows, 2);
        const end = scanLine(buf, 1, buf.length - 1, shape, rows);
        if (end < 0) return;
        expect(end).toBe(buf.length - 1);
        taken++;
        const record = JSON.parse(text) as Record<string, unknown>;
        expect(buf.subarray(rows.keyFrom[0], rows.keyTo[0]).toString('utf8')).toBe(record.key);
        expect(rows.keyHash[0]).toBe(hashBytes(buf, rows.keyFrom[0]!, rows.keyTo[0]!));
        expect(Object.is(rows.values[0], record.amount)).toBe(true);
        expect(Object.is(rows.values[1], record.n)).toBe(true);
      }),
      { numRuns: 5000 },
    );
    expect(taken).toBeGreaterThan(300);
  });

  it('finds where a line ends as it reads it: the lines of a block read one after another, each as JSON.parse reads it (fast-check)', () => {
    const value = fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom('1', '-2.5', '0') },
      fc.constantFrom('"a"', '"a\\nb"', '[1,\n2]', '{"x":\n1}', 'null', '1e2', '-'),
    );
    const name = fc.oneof({ weight: 4, arbitrary: fc.constant('key') }, fc.constant('k'));
    const line = fc
      .tuple(name, fc.constantFrom('"u1"', '"u2"', '"é"', '5', '"a\nb"'), value, value, fc.constantFrom('', ' ', '\r', '\t \r'))
      .map(([k, key, amount, n, end]) => `{"${k}":${key},"amount":${amount},"n":${n}}${end}`);
    let taken = 0;
    fc.assert(
      fc.property(
        fc.array(fc.oneof({ weight: 4, arbitrary: line }, fc.constantFrom('', ' ', '{', '}')), { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        (lines, trailing) => {
          const text = lines.join('\n') + (trailing ? '\n' : '');
          const buf = Buffer.from(text);
          const rows = keyedRows();
          growRows(rows, 2);
          // each line's start and end, as the general path cuts them
          let from = 0;
          for (const piece of text.split('\n')) {
            const to = from + Buffer.byteLength(piece);
            const end = scanLine(buf, from, buf.length, shape, rows);
            if (end >= 0) {
              taken++;
              expect(end).toBe(to);
              const record = JSON.parse(piece) as Record<string, unknown>;
              expect(buf.subarray(rows.keyFrom[0], rows.keyTo[0]).toString('utf8')).toBe(record.key);
              expect(Object.is(rows.values[0], record.amount)).toBe(true);
              expect(Object.is(rows.values[1], record.n)).toBe(true);
            } else {
              // the general path: JSON.parse of the line alone, not an object with the fields the fast path takes
              let fits = false;
              try {
                const r = JSON.parse(piece) as Record<string, unknown>;
                fits = typeof r.key === 'string' && typeof r.amount === 'number' && typeof r.n === 'number' && !/\de|\\/.test(piece); // no exponent, no escape
              } catch {
                // not JSON: the general path reports it
              }
              expect([piece, fits]).toEqual([piece, false]);
            }
            from = to + 1;
          }
        },
      ),
      { numRuns: 2000 },
    );
    expect(taken).toBeGreaterThan(300);
  });

  it('leaves to JSON.parse: bad JSON, missing or repeated fields, escapes in names or the key, exponents, other types', () => {
    const takes = (text: string) => {
      const rows = keyedRows();
      growRows(rows, 2);
      return scanLine(Buffer.from(text), 0, Buffer.byteLength(text), shape, rows) >= 0;
    };
    expect(takes('{"key":"a","amount":1.5,"n":-0,"x":{"y":[true,false,null,"\\u00e9"]}} ')).toBe(true);
    for (const text of [
      '{"key":"a","amount":1.5}',
      '{"key":"a","amount":1.5,"n":1,"n":2}',
      '{"k\\u0065y":"a","amount":1.5,"n":1}',
      '{"key":"a\\nb","amount":1.5,"n":1}',
      '{"key":"a","amount":1e2,"n":1}',
      '{"key":"a","amount":12345678901234567,"n":1}',
      '{"key":5,"amount":1,"n":1}',
      '{"key":"a","amount":"1","n":1}',
      '{"key":"a","amount":1,"n":1,}',
      '{"key":"a","amount":01,"n":1}',
      '{"key":"a","amount":1,"n":1} x',
      '{"key":"a","amount":1,"n":1,"z":tru}',
      '[{"key":"a","amount":1,"n":1}]',
    ])
      expect([text, takes(text)]).toEqual([text, false]);
  });
});

describe('ByteKeys', () => {
  it('gives each distinct byte string one dense id, through growth and clear, as a Map of strings does (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.array(fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'é'), maxLength: 4 }), { maxLength: 3000 }),
        (ascii, all) => {
          const words = ascii ? all.map((w) => w.replaceAll('é', 'd')) : all; // the keys all ASCII, or not
          const keys = new ByteKeys();
          for (let round = 0; round < 2; round++) {
            const want = new Map<string, number>();
            for (const w of words) {
              const bytes = Buffer.from(`x${w}y`);
              const id = keys.id(bytes, 1, bytes.length - 1, hashBytes(bytes, 1, bytes.length - 1));
              if (!want.has(w)) want.set(w, want.size);
              expect(id).toBe(want.get(w));
            }
            expect(keys.size).toBe(want.size);
            for (const [w, id] of want) expect(keys.key(id)).toBe(w);
            expect(keys.keys()).toEqual([...want.keys()]);
            // the partitioner's hash of a key, from its bytes' hash, when the two agree (an ASCII key)
            for (const [w, id] of want) expect(keys.keyHash(id)).toBe(/^[a-d]*$/.test(w) ? hashKey(w) : -1);
            keys.clear();
          }
        },
      ),
      { numRuns: 50 },
    );
  });
});

describe('groupBy over CSV files, blocks on the fast path and off it', () => {
  /** A file of `rows` rows over `keys` keys, more than one block (1 MiB); `odd(i)` rows are quoted or unconvertible. */
  function write(name: string, rows: number, keys: number, odd: (i: number) => boolean, crlf = false): string {
    const file = path.join(dir, name);
    const nl = crlf ? '\r\n' : '\n';
    let text = `id,key,amount,tag${nl}`;
    for (let i = 0; i < rows; i++) {
      const key = `k${(i * 7919) % keys}é`;
      const amount = ((i % 2001) - 1000) / 4;
      if (!odd(i)) text += `${i},${key},${amount},t${i % 3}${nl}`;
      else if (i % 3 === 0) text += `${i},"${key}",${amount},"t,${i % 3}"${nl}`;
      else if (i % 3 === 1) text += `${i},${key},${amount}e0,t${nl}`;
      else text += `${i},${key},x${amount},t${nl}`; // a bad record
    }
    fs.writeFileSync(file, text);
    return file;
  }
  const aggs: Agg[] = [
    { name: 'count', op: 'count' },
    { name: 'sum_amount', op: 'sum', field: 'amount' },
    { name: 'mean_amount', op: 'mean', field: 'amount' },
    { name: 'min_amount', op: 'min', field: 'amount' },
    { name: 'max_amount', op: 'max', field: 'amount' },
  ];
  const aggregate = Object.fromEntries(
    aggs.map((a) => [a.name, a.field ? { op: a.op, field: a.field } : { op: a.op }]),
  ) as GroupByOptions['aggregate'];
  const types: Record<string, ColType> = { amount: 'number' };

  /** groupBy of `files` (CSV with `amount` declared a number, or NDJSON) against the reference, with `options` added. */
  async function check(format: 'csv' | 'ndjson', files: string[], options: object = {}): Promise<Groups> {
    const typed = format === 'csv' ? { types } : {};
    const want = reference({ format, files, key: 'key', aggs, ...typed });
    if (want.kind !== 'ok') throw new Error('the reference refused the files');
    const input = format === 'csv' ? { csv: files } : { ndjson: files };
    const got = await groupBy({ input, key: 'key', aggregate, ...typed, onBadRecord: 'skip', workers: 2, ...options });
    expect(got.stats?.badRecords).toBe(want.bad.length);
    expect(sortRows([...got.values()])).toEqual(sortRows(want.rows));
    return got;
  }

  it('equals the reference: clean blocks, blocks with quotes or exponents, bad records, CRLF', async () => {
    const clean = write('clean.csv', 60_000, 5000, () => false);
    const mixed = write('mixed.csv', 90_000, 20_000, (i) => i > 40_000 && i % 997 === 0);
    const crlf = write('crlf.csv', 50_000, 3000, (i) => i % 50_000 === 49_999, true);
    await check('csv', [clean, mixed, crlf]);
  });

  it('equals the reference on NDJSON: lines on the fast path and off it (escapes, other types, bad JSON), across blocks and splits', async () => {
    const file = path.join(dir, 'mixed.ndjson');
    const lines: string[] = [];
    for (let i = 0; i < 120_000; i++) {
      const key = `k${(i * 7919) % 30_000}é`;
      const amount = ((i % 2001) - 1000) / 4;
      if (i % 1009 === 1) lines.push(`{"key":"${key}\\u0021","amount":${amount},"tag":"t"}`);
      else if (i % 1009 === 2)
        lines.push(`{"key":"${key}","amount":"${amount}"}`); // a bad record
      else if (i % 1009 === 3) lines.push(`{"key":"${key}","amount":${amount}e0} `);
      else if (i % 1009 === 4)
        lines.push(`{"key":"${key}","amount":${amount}`); // not JSON
      else if (i % 1009 === 5) lines.push('');
      else lines.push(`{"id":${i},"key":"${key}","amount":${amount},"tag":{"t":[${i % 3},null]}}`);
    }
    fs.writeFileSync(file, lines.join('\n') + '\n');
    await check('ndjson', [file], { splits: 5 });
  });

  it('equals the reference when the combine fills the memory budget mid-split (many commits)', async () => {
    await check('csv', [write('many.csv', 120_000, 60_000, () => false)], { memory: 1 << 20, workers: 1 });
  });

  it('equals the reference through worker failures while reading (retried splits resume where their commits end)', async () => {
    const file = write('faults.csv', 150_000, 40_000, (i) => i % 5003 === 0);
    const faults = withFaults({ memory: 1 << 20, splits: 3 }, [
      { at: 'read', split: 0, attempt: 1, after: 30_000, action: 'throw' }, // a split holds 50k records
      { at: 'read', split: 1, attempt: 1, after: 10, action: 'exit' },
    ]);
    expect((await check('csv', [file], faults)).stats?.retried).toBe(2); // both faults fired
  });
});

describe('fieldReader (every input kind reads fields this way)', () => {
  it('reads own properties only, by name or dotted path, as the reference does: no Object.prototype member is a field (fast-check)', () => {
    const names = ['a', 'b', 'constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf'];
    const name = fc.constantFrom(...names);
    const value = fc.oneof(fc.string({ maxLength: 3 }), fc.integer(), fc.constant(null));
    const object = fc.letrec((tie) => ({
      node: fc.dictionary(name, fc.oneof({ depthSize: 'small' }, value, tie('node')), { maxKeys: 4 }),
    })).node;
    const field = fc.oneof(
      name,
      fc.array(name, { minLength: 2, maxLength: 3 }).map((parts) => parts.join('.')),
    );
    fc.assert(
      fc.property(object, field, (o, f) => {
        const record: unknown = JSON.parse(JSON.stringify(o)); // as NDJSON makes it: "__proto__" an own property
        expect(fieldReader(f)(record)).toEqual(fieldOf(record, f));
      }),
      { numRuns: 3000 },
    );
    const own = () => 1;
    expect(fieldReader('f')({ f: own })).toBe(own); // an own function is the record's (then refused as a value)
    expect(fieldReader('toString')({})).toBeUndefined();
    expect(fieldReader('constructor.name')({})).toBeUndefined();
  });
});
