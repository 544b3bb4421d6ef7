/**
 * Exact answers (issue 15): one table-driven case per rule of docs/types.md, over files written
 * as other tools write them (test/support/exact-files.ts). Each case runs `groupBy` or
 * `shuffle` from the library and `partd groupby` / `partd shuffle` from the built CLI, with
 * `onBadRecord` error and skip, and compares them with a reference computed independently
 * (test/support/exact-reference.ts): whole results, exactly (sums of integers and halves
 * are exact in any order; means within a relative 1e-12).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { groupBy, shuffle } from '../src/index.js';
import { runNode } from './support/child.js';
import { excelCsv, lines, ndjson, pandasCsv, plainCsv, pythonJson } from './support/exact-files.js';
import {
  parseCsv,
  reference,
  sortRecords,
  sortRows,
  type Agg,
  type Bad,
  type ColType,
  type Outcome,
  type Row,
} from './support/exact-reference.js';

// ---------------------------------------------------------------- the cases

interface Case {
  /** `<rule of docs/types.md>: <what>` */
  name: string;
  format: 'csv' | 'ndjson';
  /** file name → content, in input order */
  files: [string, string][];
  key: string;
  /** groupBy's aggregations, named as the CLI names them; none: a shuffle */
  aggs?: Agg[];
  types?: Record<string, ColType>;
  /** the CLI can express the job (default: its aggregations are count/sum/min/max/mean) */
  cli?: boolean;
  /** aggregations compared within a relative 1e-12 */
  tolerance?: string[];
  /** the library cuts the input into this many splits (the CLI has no option: it cuts files of over 1 MiB) */
  splits?: number;
  /** ragged rows: csv-parse needs relax_column_count to read the file for the parser check */
  ragged?: boolean;
  /** What the brief and docs/types.md say, checked on the reference itself (paths: file name → path). */
  check: (ref: Outcome, file: (name: string) => string) => void;
}

const count: Agg = { name: 'count', op: 'count' };
const agg = (op: Agg['op'], field: string, name = `${op}_${field}`): Agg => ({ name, op, field });
const ok = (ref: Outcome) => {
  if (ref.kind !== 'ok') throw new Error(`the reference is ${ref.kind}`);
  return ref;
};
const keysOf = (ref: Outcome) => ok(ref).rows.map((r) => r.key);
const badAt = (ref: Outcome) => ok(ref).bad.map((b) => [path.basename(b.file), b.line, b.field ?? null]);
const row = (ref: Outcome, key: string | number) => ok(ref).rows.find((r) => Object.is(r.key, key));
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

const ids = ['007', '7', '0x10', '0', '1e3', '1000', '1.0', '1', '12345678901234567890', '12345678901234567891'];

const cases: Case[] = [
  // ---------------------------------------------------------------- keys
  {
    name: 'keys, CSV: the key column is string; 007, 7, 0x10, 0, 1e3, 1000, 1.0, 1 and two 20-digit ids are 10 groups, exactly as in the file (Excel CSV UTF-8: BOM, CRLF, --key on the first column)',
    format: 'csv',
    files: [
      [
        'ids.csv',
        excelCsv(
          ['id', 'amount', 'note'],
          [...ids.map((id, i) => [id, String(2 ** i), i % 3 ? '' : `n${i}`]), ['007', '1024', 'again'], ['1', '0.5', '']],
        ),
      ],
    ],
    key: 'id',
    aggs: [count, agg('sum', 'amount')],
    check: (ref) => {
      expect(keysOf(ref)).toEqual([...ids].sort());
      expect(row(ref, '007')).toEqual({ key: '007', count: 2, sum_amount: 1025 });
      expect(row(ref, '1')).toEqual({ key: '1', count: 2, sum_amount: 128.5 });
      expect(row(ref, '12345678901234567891')).toEqual({ key: '12345678901234567891', count: 1, sum_amount: 512 });
      expect(ok(ref).bad).toEqual([]);
    },
  },
  {
    name: 'keys, CSV: the same column declared number reads numeric text: 007 and 7, 1e3 and 1000, 1.0 and 1, +5 and 5. are one group each; 0x10 and an empty key are bad records',
    format: 'csv',
    files: [
      [
        'ids-declared.csv',
        excelCsv(
          ['id', 'amount'],
          ['007', '7', '0x10', '0', '1e3', '1000', '1.0', '1', '+5', '.5', '5.', ''].map((id, i) => [id, String(2 ** i)]),
        ),
      ],
    ],
    key: 'id',
    types: { id: 'number' },
    aggs: [count, agg('sum', 'amount')],
    check: (ref, file) => {
      expect(ok(ref).rows).toEqual([
        { key: 0, count: 1, sum_amount: 8 },
        { key: 0.5, count: 1, sum_amount: 512 },
        { key: 1, count: 2, sum_amount: 64 + 128 },
        { key: 5, count: 2, sum_amount: 256 + 1024 },
        { key: 7, count: 2, sum_amount: 1 + 2 },
        { key: 1000, count: 2, sum_amount: 16 + 32 },
      ]);
      expect(badAt(ref)).toEqual([
        ['ids-declared.csv', 4, 'id'],
        ['ids-declared.csv', 13, 'id'],
      ]);
      void file;
    },
  },
  {
    name: 'keys, NDJSON: "007", "7" and 7 are three groups; "café" written raw (jq -c) and escaped (Python json.dumps) is one; "", 0 and "0" are keys',
    format: 'ndjson',
    files: [
      [
        'keys.ndjson',
        lines([
          ...[
            { grp: '007', amount: 1 },
            { grp: '7', amount: 2 },
            { grp: 7, amount: 4 },
            { grp: 7.5, amount: 8 },
            { grp: -3, amount: 16 },
            { grp: 'café', amount: 32 },
          ].map((r) => JSON.stringify(r)),
          pythonJson({ grp: 'café', amount: 64 }),
          ...[
            { grp: '', amount: 128 },
            { grp: 0, amount: 256 },
            { grp: '0', amount: 512 },
            { amount: 1024, grp: '7' },
          ].map((r) => JSON.stringify(r)),
        ]),
      ],
    ],
    key: 'grp',
    aggs: [count, agg('sum', 'amount')],
    check: (ref) => {
      expect(ok(ref).rows).toEqual([
        { key: '', count: 1, sum_amount: 128 },
        { key: '0', count: 1, sum_amount: 512 },
        { key: '007', count: 1, sum_amount: 1 },
        { key: '7', count: 2, sum_amount: 2 + 1024 },
        { key: 'café', count: 2, sum_amount: 96 },
        { key: -3, count: 1, sum_amount: 16 },
        { key: 0, count: 1, sum_amount: 256 },
        { key: 7, count: 1, sum_amount: 4 },
        { key: 7.5, count: 1, sum_amount: 8 },
      ]);
    },
  },
  {
    name: 'keys, NDJSON: a missing, null, boolean, object or array key is a bad record',
    format: 'ndjson',
    files: [
      [
        'bad-keys.ndjson',
        ndjson([
          { grp: 'a', amount: 1 },
          { amount: 2 },
          { grp: null, amount: 4 },
          { grp: true, amount: 8 },
          { grp: { id: 1 }, amount: 16 },
          { grp: ['a'], amount: 32 },
          { grp: 'a', amount: 64 },
          { grp: false, amount: 128 },
        ]),
      ],
    ],
    key: 'grp',
    aggs: [count, agg('sum', 'amount')],
    check: (ref) => {
      expect(ok(ref).rows).toEqual([{ key: 'a', count: 2, sum_amount: 65 }]);
      expect(badAt(ref)).toEqual([2, 3, 4, 5, 6, 8].map((l) => ['bad-keys.ndjson', l, 'grp']));
    },
  },
  {
    name: 'keys, NDJSON: an integer beyond ±(2^53 − 1) unquoted is a bad record; quoted, it is an exact string key; 9007199254740991 is a number key',
    format: 'ndjson',
    files: [
      [
        'big.ndjson',
        lines([
          '{"id":12345678901234567890,"amount":1}',
          '{"id":"12345678901234567890","amount":2}',
          '{"id":"12345678901234567891","amount":4}',
          '{"id":12345678901234567891,"amount":8}',
          '{"id":9007199254740991,"amount":16}',
          '{"id":-9007199254740993,"amount":32}',
          '{"id":9007199254740993,"amount":64}',
          '{"id":"12345678901234567890","amount":128}',
        ]),
      ],
    ],
    key: 'id',
    aggs: [count, agg('sum', 'amount')],
    check: (ref) => {
      expect(ok(ref).rows).toEqual([
        { key: '12345678901234567890', count: 2, sum_amount: 130 },
        { key: '12345678901234567891', count: 1, sum_amount: 4 },
        { key: 9007199254740991, count: 1, sum_amount: 16 },
      ]);
      expect(badAt(ref)).toEqual([1, 4, 6, 7].map((l) => ['big.ndjson', l, 'id']));
    },
  },
  {
    name: 'types, NDJSON: a key declared string refuses 7 and null; declared number refuses "7" and "x"',
    format: 'ndjson',
    files: [
      [
        'declared-keys.ndjson',
        ndjson([
          { grp: '7', amount: 1 },
          { grp: 7, amount: 2 },
          { grp: 'a', amount: 4 },
          { grp: null, amount: 8 },
          { grp: '7', amount: 16 },
        ]),
      ],
    ],
    key: 'grp',
    types: { grp: 'string' },
    aggs: [count, agg('sum', 'amount')],
    check: (ref) => {
      expect(ok(ref).rows).toEqual([
        { key: '7', count: 2, sum_amount: 17 },
        { key: 'a', count: 1, sum_amount: 4 },
      ]);
      expect(badAt(ref)).toEqual([2, 4].map((l) => ['declared-keys.ndjson', l, 'grp']));
    },
  },
  {
    name: 'types, NDJSON: a key declared number refuses "7" and "x"; amount declared number checks first too',
    format: 'ndjson',
    files: [
      [
        'declared-numbers.ndjson',
        ndjson([
          { grp: 7, amount: 1 },
          { grp: '7', amount: 2 },
          { grp: 1.5, amount: 4 },
          { grp: 'x', amount: 8 },
          { grp: 7, amount: '16' },
          { grp: 7, amount: 32 },
        ]),
      ],
    ],
    key: 'grp',
    types: { grp: 'number', amount: 'number' },
    aggs: [count, agg('first', 'amount')],
    cli: false,
    check: (ref) => {
      expect(ok(ref).rows).toEqual([
        { key: 1.5, count: 1, first_amount: 4 },
        { key: 7, count: 2, first_amount: 1 },
      ]);
      expect(badAt(ref)).toEqual([
        ['declared-numbers.ndjson', 2, 'grp'],
        ['declared-numbers.ndjson', 4, 'grp'],
        ['declared-numbers.ndjson', 5, 'amount'],
      ]);
    },
  },

  // ---------------------------------------------------------------- fields
  {
    name: 'fields, NDJSON: --key user.id and sum of order.amount read the nested paths; a property named "user.id" itself wins; 7 and "7" are two users',
    format: 'ndjson',
    files: [
      [
        'nested.ndjson',
        ndjson([
          { user: { id: 'u1', name: 'Ann' }, order: { amount: 10 } },
          { user: { id: 'u2' }, order: { amount: 2.5 } },
          { user: { id: 'u1' }, order: { amount: 0.5, currency: 'EUR' } },
          { user: { id: 7 }, order: { amount: 1 } },
          { user: { id: '7' }, order: { amount: 2 } },
          { 'user.id': 'flat', user: { id: 'u1' }, order: { amount: 100 } },
          { user: { id: 'u2' }, 'order.amount': 4, order: { amount: 1000 } },
          { user: {}, order: { amount: 1 } },
          { user: { id: 'u3' }, order: {} },
          { user: null, order: { amount: 1 } },
          { user: { id: 'u3' }, order: { amount: '3' } },
          { user: 'u1', order: { amount: 1 } },
        ]),
      ],
    ],
    key: 'user.id',
    aggs: [count, agg('sum', 'order.amount'), agg('max', 'order.amount')],
    check: (ref) => {
      expect(ok(ref).rows).toEqual([
        { key: '7', count: 1, 'sum_order.amount': 2, 'max_order.amount': 2 },
        { key: 'flat', count: 1, 'sum_order.amount': 100, 'max_order.amount': 100 },
        { key: 'u1', count: 2, 'sum_order.amount': 10.5, 'max_order.amount': 10 },
        { key: 'u2', count: 2, 'sum_order.amount': 6.5, 'max_order.amount': 4 },
        { key: 7, count: 1, 'sum_order.amount': 1, 'max_order.amount': 1 },
      ]);
      expect(badAt(ref)).toEqual([
        ['nested.ndjson', 8, 'user.id'],
        ['nested.ndjson', 9, 'order.amount'],
        ['nested.ndjson', 10, 'user.id'],
        ['nested.ndjson', 11, 'order.amount'],
        ['nested.ndjson', 12, 'user.id'],
      ]);
    },
  },
  {
    name: 'fields, CSV: a header user.id is one flat column',
    format: 'csv',
    files: [
      [
        'dotted.csv',
        plainCsv(
          ['user.id', 'order.amount', 'user'],
          [
            ['u1', '1', 'x'],
            ['u2', '2', 'y'],
            ['u1', '4', 'z'],
          ],
        ),
      ],
    ],
    key: 'user.id',
    aggs: [count, agg('sum', 'order.amount')],
    check: (ref) => {
      expect(ok(ref).rows).toEqual([
        { key: 'u1', count: 2, 'sum_order.amount': 5 },
        { key: 'u2', count: 1, 'sum_order.amount': 2 },
      ]);
    },
  },

  // ---------------------------------------------------------------- CSV headers
  {
    name: 'CSV header: a --key missing from the header of one file is an error before any work, naming the column and the file (with skip too)',
    format: 'csv',
    files: [
      ['has-key.csv', plainCsv(['region', 'amount'], [['a', '1']])],
      ['no-key.csv', plainCsv(['Region', 'amount'], [['b', '2']])],
    ],
    key: 'region',
    aggs: [count, agg('sum', 'amount')],
    check: (ref, file) => expect(ref).toEqual({ kind: 'fatal', file: file('no-key.csv'), field: 'region' }),
  },
  {
    name: 'CSV header: a summed column missing from the header of one file is an error before any work',
    format: 'csv',
    files: [
      ['has-amount.csv', plainCsv(['region', 'amount'], [['a', '1']])],
      ['no-amount.csv', plainCsv(['region', 'amt'], [['b', '2']])],
    ],
    key: 'region',
    aggs: [count, agg('sum', 'amount')],
    check: (ref, file) => expect(ref).toEqual({ kind: 'fatal', file: file('no-amount.csv'), field: 'amount' }),
  },

  {
    name: 'CSV header: a key or summed column named twice is an error before any work (which one is meant is a guess); an unread name twice is not',
    format: 'csv',
    files: [
      ['fine.csv', plainCsv(['k', 'amount', 'note', 'note'], [['a', '1', 'x', 'y']])],
      ['twice.csv', plainCsv(['k', 'amount', 'amount'], [['a', '1', '10']])],
    ],
    key: 'k',
    aggs: [count, agg('sum', 'amount')],
    check: (ref, file) => expect(ref).toEqual({ kind: 'fatal', file: file('twice.csv'), field: 'amount' }),
  },
  {
    name: 'CSV header: an unread column named twice keeps the job working; the header is the first record, a quoted name with a line break (Excel) included',
    format: 'csv',
    files: [
      [
        'header-break.csv',
        excelCsv(
          ['Amount\n(USD)', 'k', 'note', 'note'],
          [
            ['1', 'a', 'x', 'y'],
            ['2', 'a', '', ''],
            ['4', 'b', 'z', ''],
          ],
        ),
      ],
    ],
    key: 'k',
    aggs: [count, agg('sum', 'Amount\n(USD)', 'sum_usd')],
    cli: false, // a field name with a line break cannot be given on one command line here
    check: (ref) =>
      expect(ok(ref).rows).toEqual([
        { key: 'a', count: 2, sum_usd: 3 },
        { key: 'b', count: 1, sum_usd: 4 },
      ]),
  },
  {
    name: 'CSV header: columns named constructor, toString and __proto__ are columns like any other (read or not: no Object.prototype lookups)',
    format: 'csv',
    files: [
      [
        'proto.csv',
        plainCsv(
          ['constructor', 'v', 'toString', '__proto__'],
          [
            ['a', '1', 'x', 'y'],
            ['a', '2', '', 'z'],
            ['b', '4', 'w', ''],
          ],
        ),
      ],
    ],
    key: 'constructor',
    aggs: [count, agg('sum', 'v')],
    check: (ref) =>
      expect(ok(ref).rows).toEqual([
        { key: 'a', count: 2, sum_v: 3 },
        { key: 'b', count: 1, sum_v: 4 },
      ]),
  },
  {
    name: 'files, CSV: LF lines with CRLF lines appended (the key in the last column), over 3 splits: one key "a", not "a" and "a\\r"; a lone \\r is data',
    format: 'csv',
    files: [
      [
        'mixed.csv',
        'v,k\n' +
          '1,a\n'.repeat(400) +
          '2,a\r\n'.repeat(800) +
          '4,b\rc\n' + // a \r not before \n: part of the key
          '8,"q\r\nr"\r\n' + // inside quotes: data
          '16,a\n',
      ],
    ],
    key: 'k',
    aggs: [count, agg('sum', 'v')],
    splits: 3,
    check: (ref) =>
      expect(ok(ref).rows).toEqual([
        { key: 'a', count: 1201, sum_v: 400 + 1600 + 16 },
        { key: 'b\rc', count: 1, sum_v: 4 },
        { key: 'q\r\nr', count: 1, sum_v: 8 },
      ]),
  },
  {
    name: 'keys, NDJSON: a key with an unpaired surrogate ("\\ud83d", half an emoji) is a bad record, never merged with "\\ufffd" or another half; a whole pair is a key',
    format: 'ndjson',
    files: [
      [
        'halves.ndjson',
        lines([
          '{"k":"\\ud83d","v":1}',
          '{"k":"\\ud83e","v":2}',
          '{"k":"\\ufffd","v":4}',
          '{"k":"\\ud83d\\ude00","v":8}',
          '{"k":"x\\udc00y","v":16}',
          '{"k":"\\ud83d\\ude00","v":32}',
        ]),
      ],
    ],
    key: 'k',
    aggs: [count, agg('sum', 'v')],
    check: (ref, file) => {
      expect(ok(ref).rows).toEqual([
        { key: '\ud83d\ude00', count: 2, sum_v: 40 },
        { key: '\ufffd', count: 1, sum_v: 4 },
      ]);
      expect(badAt(ref)).toEqual([
        ['halves.ndjson', 1, 'k'],
        ['halves.ndjson', 2, 'k'],
        ['halves.ndjson', 5, 'k'],
      ]);
      void file;
    },
  },
  {
    name: 'fields, NDJSON: a key named constructor is a field like any other; a record without a toString field has no key (not Object.prototype.toString)',
    format: 'ndjson',
    files: [
      [
        'proto.ndjson',
        lines(['{"constructor":"a","toString":"t","v":1}', '{"constructor":"a","v":2}', '{"constructor":"b","toString":"t","v":4}']),
      ],
    ],
    key: 'toString',
    aggs: [count, agg('sum', 'v')],
    check: (ref) => {
      expect(ok(ref).rows).toEqual([{ key: 't', count: 2, sum_v: 5 }]);
      expect(badAt(ref)).toEqual([['proto.ndjson', 2, 'toString']]);
    },
  },

  // ---------------------------------------------------------------- CSV number columns
  {
    name: 'CSV number columns: a summed column takes numeric text (5, -1.5, 2e3, +2, .5, 007, 5., 1E2, -.5) as numbers; min, max and mean read it as numbers',
    format: 'csv',
    files: [
      [
        'numeric.csv',
        plainCsv(
          ['k', 'amount'],
          [
            ['a', '5'],
            ['a', '-1.5'],
            ['a', '2e3'],
            ['b', '+2'],
            ['b', '.5'],
            ['b', '007'],
            ['b', '5.'],
            ['c', '1E2'],
            ['c', '-.5'],
          ],
        ),
      ],
    ],
    key: 'k',
    aggs: [count, agg('sum', 'amount'), agg('min', 'amount'), agg('max', 'amount'), agg('mean', 'amount')],
    tolerance: ['mean_amount'],
    check: (ref) => {
      expect(ok(ref).rows).toEqual([
        { key: 'a', count: 3, sum_amount: 2003.5, min_amount: -1.5, max_amount: 2000, mean_amount: 2003.5 / 3 },
        { key: 'b', count: 4, sum_amount: 14.5, min_amount: 0.5, max_amount: 7, mean_amount: 14.5 / 4 },
        { key: 'c', count: 2, sum_amount: 99.5, min_amount: -0.5, max_amount: 100, mean_amount: 99.5 / 2 },
      ]);
    },
  },
  {
    name: 'CSV number columns: a summed column refuses "1,000", 12abc, 0x10, " 5", 1e, Infinity, NaN, 1_000, --1 and an empty field: bad records naming file, line and column',
    format: 'csv',
    files: [
      [
        'not-numeric.csv',
        plainCsv(
          ['k', 'amount'],
          [
            ['a', '10'],
            ['a', '1,000'],
            ['a', '12abc'],
            ['b', '0x10'],
            ['b', ' 5'],
            ['a', '1e'],
            ['b', 'Infinity'],
            ['b', 'NaN'],
            ['a', '1_000'],
            ['a', '--1'],
            ['b', ''],
            ['b', '2.5'],
          ],
        ),
      ],
    ],
    key: 'k',
    aggs: [count, agg('sum', 'amount'), agg('mean', 'amount')],
    tolerance: ['mean_amount'],
    check: (ref) => {
      expect(ok(ref).rows).toEqual([
        { key: 'a', count: 1, sum_amount: 10, mean_amount: 10 },
        { key: 'b', count: 1, sum_amount: 2.5, mean_amount: 2.5 },
      ]);
      expect(badAt(ref)).toEqual(range(10).map((i) => ['not-numeric.csv', 3 + i, 'amount']));
    },
  },
  {
    name: 'CSV columns inferred from the sample (pandas to_csv: index column, quoted commas, quotes and newlines, NaN as empty): zip 00501 string, code number, 0x10 string, 1e3 number, 9007199254740992 string; empty → null in a number column, "" in a string one',
    format: 'csv',
    files: [
      [
        'pandas.csv',
        pandasCsv(
          ['shop', 'zip', 'code', 'hex', 'exp', 'score', 'big', 'safe', 'comment', 'blank'],
          [
            ['a', '00501', '10', '0x10', '1e3', '5.0', '9007199254740991', '9007199254740991', 'Hello, world', ''],
            ['b', '02134', '9', '0xFF', '2E-2', '', '9007199254740992', '-9007199254740991', 'she said "hi"', ''],
            ['a', '10001', '100', 'ff', '-1.5', '2.5', '1', '0', 'two\nlines', ''],
            ['c', '99501', '', '10', '0', '', '2', '1', '', ''],
            ['b', '00000', '-7', '0x0', '1.0', '-0.5', '3', '2', 'tab\there, "and" more\nand\nmore', ''],
          ],
        ),
      ],
    ],
    key: 'shop',
    check: (ref) => {
      expect(ok(ref).columnTypes).toEqual({
        '': 'number',
        shop: 'string',
        zip: 'string',
        code: 'number',
        hex: 'string',
        exp: 'number',
        score: 'number',
        big: 'string',
        safe: 'number',
        comment: 'string',
        blank: 'string',
      });
      expect(ok(ref).records).toContainEqual({
        '': 3,
        shop: 'c',
        zip: '99501',
        code: null,
        hex: '10',
        exp: 0,
        score: null,
        big: '2',
        safe: 1,
        comment: '',
        blank: '',
      });
      expect(ok(ref).records).toContainEqual({
        '': 1,
        shop: 'b',
        zip: '02134',
        code: 9,
        hex: '0xFF',
        exp: 0.02,
        score: null,
        big: '9007199254740992',
        safe: -9007199254740991,
        comment: 'she said "hi"',
        blank: '',
      });
      expect(ok(ref).records).toHaveLength(5);
    },
  },
  {
    name: 'CSV columns, Excel (BOM, CRLF, a cell with a line break): --key on the first column; 5, -1.5, 2e3 in an inferred column are numbers; zip 00501 stays a string',
    format: 'csv',
    files: [
      [
        'excel.csv',
        excelCsv(
          ['id', 'zip', 'amount', 'note'],
          [
            ['A1', '00501', '5', 'one'],
            ['A2', '12345', '-1.5', 'two\nlines'],
            ['A1', '07030', '2e3', 'comma, "quoted"'],
            ['A3', '90210', '', 'crlf\r\ninside'],
          ],
        ),
      ],
    ],
    key: 'id',
    check: (ref) => {
      expect(ok(ref).records).toEqual(
        sortRecords([
          { id: 'A1', zip: '00501', amount: 5, note: 'one' },
          { id: 'A2', zip: '12345', amount: -1.5, note: 'two\nlines' },
          { id: 'A1', zip: '07030', amount: 2000, note: 'comma, "quoted"' },
          { id: 'A3', zip: '90210', amount: null, note: 'crlf\r\ninside' },
        ]),
      );
    },
  },
  {
    name: 'CSV columns declared number read numeric text (+5, .5, 5., 007, 2e3; empty → null); 0x10 is a bad record naming the column',
    format: 'csv',
    files: [
      [
        'declared.csv',
        plainCsv(
          ['k', 'amount', 'qty'],
          [
            ['a', '5', '1'],
            ['a', '+5', '2'],
            ['b', '.5', '0x10'],
            ['b', '5.', ''],
            ['c', '007', '3'],
            ['c', '2e3', '4'],
            ['c', '-1.5', '5'],
            ['c', '', '6'],
          ],
        ),
      ],
    ],
    key: 'k',
    types: { amount: 'number', qty: 'number' },
    check: (ref) => {
      expect(ok(ref).records).toEqual(
        sortRecords([
          { k: 'a', amount: 5, qty: 1 },
          { k: 'a', amount: 5, qty: 2 },
          { k: 'b', amount: 5, qty: null },
          { k: 'c', amount: 7, qty: 3 },
          { k: 'c', amount: 2000, qty: 4 },
          { k: 'c', amount: -1.5, qty: 5 },
          { k: 'c', amount: null, qty: 6 },
        ]),
      );
      expect(badAt(ref)).toEqual([['declared.csv', 4, 'qty']]);
    },
  },
  {
    name: 'CSV columns declared string keep the text: 9, 10, 100, 007 are strings; min/max in code-unit order',
    format: 'csv',
    files: [
      [
        'declared-string.csv',
        plainCsv(
          ['k', 'code'],
          [
            ['a', '9'],
            ['a', '10'],
            ['a', '100'],
            ['b', '007'],
            ['b', '7'],
          ],
        ),
      ],
    ],
    key: 'k',
    types: { code: 'string' },
    aggs: [count, agg('min', 'code'), agg('max', 'code')],
    check: (ref) => {
      expect(ok(ref).rows).toEqual([
        { key: 'a', count: 3, min_code: '10', max_code: '9' },
        { key: 'b', count: 2, min_code: '007', max_code: '7' },
      ]);
    },
  },
  {
    name: 'CSV min/max: a string column orders by UTF-16 code units ("Zebra" < "apple" < "émile"; "😀" < "ｚ"); an inferred number column numerically (9 < 10 < 100); a leading-zero column as strings',
    format: 'csv',
    files: [
      [
        'minmax.csv',
        plainCsv(
          ['k', 'name', 'code', 'zip'],
          [
            ['a', 'apple', '10', '0501'],
            ['a', 'Zebra', '9', '501'],
            ['a', 'émile', '100', '00501'],
            ['b', '😀', '-3', '1'],
            ['b', 'ｚ', '2.5', '01'],
            ['b', 'a', '0', '10'],
            ['c', '', '7', '9'],
            ['c', 'x', '7', '10'],
          ],
        ),
      ],
    ],
    key: 'k',
    aggs: [count, agg('min', 'name'), agg('max', 'name'), agg('min', 'code'), agg('max', 'code'), agg('min', 'zip'), agg('max', 'zip')],
    check: (ref) => {
      expect(ok(ref).rows).toEqual([
        { key: 'a', count: 3, min_name: 'Zebra', max_name: 'émile', min_code: 9, max_code: 100, min_zip: '00501', max_zip: '501' },
        { key: 'b', count: 3, min_name: 'a', max_name: 'ｚ', min_code: -3, max_code: 2.5, min_zip: '01', max_zip: '10' },
        { key: 'c', count: 2, min_name: '', max_name: 'x', min_code: 7, max_code: 7, min_zip: '10', max_zip: '9' },
      ]);
    },
  },
  ...lateValueCases(),
  ...bigFileCases(),
  {
    name: 'files, CSV: two Excel files, each with its BOM; an empty key is the key ""; the last row of a file without a final line break counts',
    format: 'csv',
    files: [
      [
        'excel-1.csv',
        excelCsv(
          ['shop', 'amount'],
          [
            ['a', '1'],
            ['', '2'],
            ['b', '4'],
          ],
        ),
      ],
      [
        'excel-2.csv',
        excelCsv(
          ['shop', 'amount'],
          [
            ['b', '8'],
            ['a', '16'],
          ],
        ),
      ],
      ['no-final-newline.csv', 'shop,amount\r\na,32\r\n,64'],
    ],
    key: 'shop',
    aggs: [count, agg('sum', 'amount')],
    check: (ref) => {
      expect(ok(ref).rows).toEqual([
        { key: '', count: 2, sum_amount: 66 },
        { key: 'a', count: 3, sum_amount: 49 },
        { key: 'b', count: 2, sum_amount: 12 },
      ]);
    },
  },
  {
    name: 'files, NDJSON: two files, each with its BOM (and the second without a final line break)',
    format: 'ndjson',
    files: [
      ['bom-1.ndjson', lines(['{"k":"a","amount":1}', '{"k":"b","amount":2}'], { bom: true })],
      ['bom-2.ndjson', '\uFEFF{"k":"a","amount":4}\n{"k":"c","amount":8}'],
    ],
    key: 'k',
    aggs: [count, agg('sum', 'amount')],
    check: (ref) => {
      expect(ok(ref).rows).toEqual([
        { key: 'a', count: 2, sum_amount: 5 },
        { key: 'b', count: 1, sum_amount: 2 },
        { key: 'c', count: 1, sum_amount: 8 },
      ]);
    },
  },
  {
    name: "CSV sample: the first 1,000 rows of EACH file: A7 in row 5 of the second file makes the column string for the whole job, the first file's 1,200 numbers included",
    format: 'csv',
    files: [
      [
        'first.csv',
        plainCsv(
          ['k', 'code'],
          range(1200).map((i) => [`k${i % 3}`, String(i)]),
        ),
      ],
      [
        'second.csv',
        plainCsv(
          ['k', 'code'],
          range(10).map((i) => [`k${i % 3}`, i === 4 ? 'A7' : String(i)]),
        ),
      ],
    ],
    key: 'k',
    check: (ref) => {
      expect(ok(ref).columnTypes).toEqual({ k: 'string', code: 'string' });
      expect(ok(ref).records).toContainEqual({ k: 'k0', code: '0' });
      expect(ok(ref).records).toContainEqual({ k: 'k1', code: 'A7' });
      expect(ok(ref).bad).toEqual([]);
    },
  },
  {
    name: 'CSV sample: a column empty in all 1,000 sampled rows is string: a later 5 is "5"',
    format: 'csv',
    files: [
      [
        'blank-sample.csv',
        plainCsv(
          ['k', 'later'],
          range(1100).map((i) => [`k${i % 2}`, i === 1050 ? '5' : '']),
        ),
      ],
    ],
    key: 'k',
    check: (ref) => {
      expect(ok(ref).columnTypes).toEqual({ k: 'string', later: 'string' });
      expect(ok(ref).records).toContainEqual({ k: 'k0', later: '5' });
      expect(ok(ref).records.filter((r) => r.later === '')).toHaveLength(1099);
    },
  },

  // ---------------------------------------------------------------- CSV shapes
  {
    name: 'CSV ragged rows are bad records naming their line',
    format: 'csv',
    files: [['ragged.csv', 'k,amount,note\na,1,x\nb,2\na,4,y,extra\nc,8,z\n']],
    key: 'k',
    aggs: [count, agg('sum', 'amount')],
    ragged: true,
    check: (ref) => {
      expect(ok(ref).rows).toEqual([
        { key: 'a', count: 1, sum_amount: 1 },
        { key: 'c', count: 1, sum_amount: 8 },
      ]);
      expect(badAt(ref)).toEqual([
        ['ragged.csv', 3, null],
        ['ragged.csv', 4, null],
      ]);
    },
  },
  {
    name: 'CSV ragged row after cells with line breaks (Excel: BOM, CRLF): its line counts the lines inside quotes',
    format: 'csv',
    files: [['ragged-excel.csv', '\uFEFFk,amount,note\r\na,1,"line one\nline two"\r\nb,2,"x\r\ny"\r\nc,4\r\na,8,ok\r\n']],
    key: 'k',
    aggs: [count, agg('sum', 'amount')],
    ragged: true,
    check: (ref) => {
      expect(ok(ref).rows).toEqual([
        { key: 'a', count: 2, sum_amount: 9 },
        { key: 'b', count: 1, sum_amount: 2 },
      ]);
      expect(badAt(ref)).toEqual([['ragged-excel.csv', 6, null]]);
    },
  },
  {
    name: 'CSV keys with line breaks, commas and quotes (Excel): "a\\nb", "a\\r\\nb", "a b", "a,b", \'a"b\' are five groups, exactly',
    format: 'csv',
    files: [
      [
        'multiline-keys.csv',
        excelCsv(
          ['note', 'amount'],
          [
            ['a\nb', '1'],
            ['a\r\nb', '2'],
            ['a b', '4'],
            ['a,b', '8'],
            ['a"b', '16'],
            ['a\nb', '32'],
            ['"', '64'],
          ],
        ),
      ],
    ],
    key: 'note',
    aggs: [count, agg('sum', 'amount')],
    check: (ref) => {
      expect(keysOf(ref)).toEqual(['"', 'a\nb', 'a\r\nb', 'a b', 'a"b', 'a,b']);
      expect(row(ref, 'a\nb')).toEqual({ key: 'a\nb', count: 2, sum_amount: 33 });
    },
  },

  // ---------------------------------------------------------------- aggregations
  {
    name: 'aggregations, NDJSON: amounts 10 and "5": the "5" record is a bad record (file, line 2, field amount); skipped, the sum is 10',
    format: 'ndjson',
    files: [
      [
        'ten-and-five.ndjson',
        ndjson([
          { k: 'a', amount: 10 },
          { k: 'a', amount: '5' },
        ]),
      ],
    ],
    key: 'k',
    aggs: [count, agg('sum', 'amount')],
    check: (ref) => {
      expect(ok(ref).rows).toEqual([{ key: 'a', count: 1, sum_amount: 10 }]);
      expect(badAt(ref)).toEqual([['ten-and-five.ndjson', 2, 'amount']]);
    },
  },
  {
    name: 'aggregations, NDJSON: sum and mean refuse "5", "1,000", "12abc", "", null, a missing amount, true, [1] and {"v":1}: bad records, never null or a string sum',
    format: 'ndjson',
    files: [
      [
        'amounts.ndjson',
        ndjson([
          { k: 'a', amount: 10 },
          { k: 'a', amount: '5' },
          { k: 'a', amount: '1,000' },
          { k: 'b', amount: '12abc' },
          { k: 'b', amount: '' },
          { k: 'a', amount: null },
          { k: 'b' },
          { k: 'a', amount: true },
          { k: 'b', amount: [1] },
          { k: 'b', amount: { v: 1 } },
          { k: 'b', amount: 2.5 },
          { k: 'a', amount: -0.5 },
          { k: 'c', amount: null },
        ]),
      ],
    ],
    key: 'k',
    aggs: [count, agg('sum', 'amount'), agg('mean', 'amount')],
    tolerance: ['mean_amount'],
    check: (ref) => {
      expect(ok(ref).rows).toEqual([
        { key: 'a', count: 2, sum_amount: 9.5, mean_amount: 4.75 },
        { key: 'b', count: 1, sum_amount: 2.5, mean_amount: 2.5 },
      ]);
      expect(badAt(ref)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 13].map((l) => ['amounts.ndjson', l, 'amount']));
    },
  },
  {
    name: 'aggregations, NDJSON: first, last and collect take any value (a missing field is null) and sum asked with them stays a number',
    format: 'ndjson',
    files: [
      [
        'first.ndjson',
        ndjson([
          { k: 'a', amount: 1, note: 'x' },
          { k: 'a', amount: 2, note: 5 },
          { k: 'b', amount: 4 },
          { k: 'a', amount: 8, note: null },
          { k: 'b', amount: 16, note: { deep: [1, '2'] } },
          { k: 'a', amount: 0.5, note: '5' },
        ]),
      ],
    ],
    key: 'k',
    aggs: [agg('sum', 'amount'), agg('first', 'note'), agg('last', 'note'), agg('collect', 'note'), agg('first', 'amount'), count],
    check: (ref) => {
      expect(ok(ref).rows).toEqual([
        { key: 'a', sum_amount: 11.5, first_note: 'x', last_note: '5', collect_note: ['x', 5, null, '5'], first_amount: 1, count: 4 },
        {
          key: 'b',
          sum_amount: 20,
          first_note: null,
          last_note: { deep: [1, '2'] },
          collect_note: [null, { deep: [1, '2'] }],
          first_amount: 4,
          count: 2,
        },
      ]);
    },
  },
  {
    name: 'aggregations, CSV: first, last and collect with sum: the sum and first of the summed column are numbers; a string column gives its text, an inferred number column numbers (empty → null)',
    format: 'csv',
    files: [
      [
        'first.csv',
        plainCsv(
          ['k', 'amount', 'note', 'n'],
          [
            ['a', '5', 'x', '1'],
            ['a', '007', '007', ''],
            ['b', '-1.5', '', '2'],
            ['a', '2e3', '5', '3'],
            ['b', '.5', 'y', '4'],
          ],
        ),
      ],
    ],
    key: 'k',
    aggs: [
      agg('first', 'amount'),
      agg('sum', 'amount'),
      agg('first', 'note'),
      agg('last', 'note'),
      agg('collect', 'note'),
      agg('collect', 'n'),
      agg('collect', 'amount'),
    ],
    check: (ref) => {
      expect(ok(ref).rows).toEqual([
        {
          key: 'a',
          first_amount: 5,
          sum_amount: 2012,
          first_note: 'x',
          last_note: '5',
          collect_note: ['x', '007', '5'],
          collect_n: [1, null, 3],
          collect_amount: [5, 7, 2000],
        },
        {
          key: 'b',
          first_amount: -1.5,
          sum_amount: -1,
          first_note: '',
          last_note: 'y',
          collect_note: ['', 'y'],
          collect_n: [2, 4],
          collect_amount: [-1.5, 0.5],
        },
      ]);
    },
  },
  {
    name: 'aggregations, NDJSON: min/max on strings without a declared type are bad records',
    format: 'ndjson',
    files: [
      [
        'minmax-undeclared.ndjson',
        ndjson([
          { k: 'a', v: 'apple' },
          { k: 'a', v: 3 },
          { k: 'b', v: 'Zebra' },
          { k: 'b', v: 1.5 },
          { k: 'b', v: -2 },
          { k: 'c', v: null },
          { k: 'c' },
        ]),
      ],
    ],
    key: 'k',
    aggs: [count, agg('min', 'v'), agg('max', 'v')],
    check: (ref) => {
      expect(ok(ref).rows).toEqual([
        { key: 'a', count: 1, min_v: 3, max_v: 3 },
        { key: 'b', count: 2, min_v: -2, max_v: 1.5 },
      ]);
      expect(badAt(ref)).toEqual([1, 3, 6, 7].map((l) => ['minmax-undeclared.ndjson', l, 'v']));
    },
  },
  {
    name: 'aggregations, NDJSON: min/max on a field declared string order by code units; a number or a missing value there is a bad record',
    format: 'ndjson',
    files: [
      [
        'minmax-declared.ndjson',
        ndjson([
          { k: 'a', v: 'apple' },
          { k: 'a', v: 'Zebra' },
          { k: 'a', v: 'émile' },
          { k: 'b', v: '😀' },
          { k: 'b', v: 'ｚ' },
          { k: 'b', v: 7 },
          { k: 'a' },
          { k: 'b', v: '10' },
          { k: 'b', v: '9' },
        ]),
      ],
    ],
    key: 'k',
    types: { v: 'string' },
    aggs: [count, agg('min', 'v'), agg('max', 'v')],
    check: (ref) => {
      expect(ok(ref).rows).toEqual([
        { key: 'a', count: 3, min_v: 'Zebra', max_v: 'émile' },
        { key: 'b', count: 4, min_v: '10', max_v: 'ｚ' },
      ]);
      expect(badAt(ref)).toEqual([6, 7].map((l) => ['minmax-declared.ndjson', l, 'v']));
    },
  },

  // ---------------------------------------------------------------- files
  {
    name: 'files, NDJSON: a BOM and CRLF line ends (Windows PowerShell Out-File -Encoding utf8): the first line is a record',
    format: 'ndjson',
    files: [['bom.ndjson', lines(['{"k":"a","amount":1}', '{"k":"b","amount":2}', '{"k":"a","amount":4}'], { bom: true, crlf: true })]],
    key: 'k',
    aggs: [count, agg('sum', 'amount')],
    check: (ref) => {
      expect(ok(ref).rows).toEqual([
        { key: 'a', count: 2, sum_amount: 5 },
        { key: 'b', count: 1, sum_amount: 2 },
      ]);
    },
  },
  {
    name: 'files, NDJSON shuffle: values keep their JSON types ({"zip":"00501"} stays a string, 501 a number, nested objects, nulls and missing fields as they were); a null key is a bad record',
    format: 'ndjson',
    files: [
      [
        'shuffle.ndjson',
        lines([
          '\uFEFF{"k":"a","zip":"00501"}',
          '{"k":"a","zip":501}',
          '{"k":"b","n":null}',
          pythonJson({ k: 'c', nested: { a: [1, '2', null], 'b.c': 'é' } }),
          '{"k":7,"amount":"5"}',
          '{"k":"7","amount":5}',
          '{"k":"12345678901234567890","big":"12345678901234567891"}',
          '{"k":null,"zip":"1"}',
          '{"k":1.5,"x":true}',
        ]),
      ],
    ],
    key: 'k',
    check: (ref) => {
      expect(ok(ref).records).toEqual(
        sortRecords([
          { k: 'a', zip: '00501' },
          { k: 'a', zip: 501 },
          { k: 'b', n: null },
          { k: 'c', nested: { a: [1, '2', null], 'b.c': 'é' } },
          { k: 7, amount: '5' },
          { k: '7', amount: 5 },
          { k: '12345678901234567890', big: '12345678901234567891' },
          { k: 1.5, x: true },
        ]),
      );
      expect(badAt(ref)).toEqual([['shuffle.ndjson', 8, 'k']]);
    },
  },
];

/**
 * A 120,000-row CSV (about 3.5 MB): the library reads it in 8 splits, the CLI in several, so
 * the column types must hold across splits that never saw the sample. code is string (A7 in
 * row 4), later only digits; zip is inferred number, 00501 in row 110,001 (in the last
 * split); every 1,000th note has a quoted line break, so lines and rows differ.
 */
function bigFileCases(): Case[] {
  const keys = ['0', '007', '7', '1e3', '1000', '0x10'];
  const rows = range(120_000).map((i) => [
    keys[i % 6]!,
    i === 3 ? 'A7' : String(i % 1000),
    i === 110_000 ? '00501' : String(10000 + (i % 90000)),
    String((i % 9) / 2),
    i % 1000 === 0 ? `multi\nline, ${i}` : `n${i % 13}`,
  ]);
  const file: [string, string] = ['big.csv', plainCsv(['k', 'code', 'zip', 'amount', 'note'], rows)];
  const badLine = 110_000 + 2 + 110; // the header, and 110 notes of two lines before it
  return [
    {
      name: 'CSV over splits (120,000 rows): groupBy count, sum, mean, min/max of a string column, max of an inferred number column with 00501 in the last split',
      format: 'csv',
      files: [file],
      key: 'k',
      splits: 8,
      aggs: [count, agg('sum', 'amount'), agg('mean', 'amount'), agg('min', 'code'), agg('max', 'code'), agg('max', 'zip')],
      tolerance: ['mean_amount'],
      check: (ref) => {
        expect(keysOf(ref)).toEqual(['0', '007', '0x10', '1000', '1e3', '7']);
        expect(badAt(ref)).toEqual([['big.csv', badLine, 'zip']]);
        expect(row(ref, '1e3')).toMatchObject({ count: 20_000, min_code: '1', max_code: 'A7', max_zip: 99997 });
        expect(row(ref, '1000')).toMatchObject({ count: 20_000, min_code: '0', max_code: '998' });
        expect(row(ref, '7')).toMatchObject({ count: 19_999 });
      },
    },
    {
      name: 'CSV over splits (120,000 rows): first and last in input order across splits (last of zip reads the column with 00501 in the last split)',
      format: 'csv',
      files: [file],
      key: 'k',
      splits: 8,
      aggs: [agg('first', 'note'), agg('last', 'note'), agg('first', 'code'), agg('last', 'amount'), agg('last', 'zip'), count],
      check: (ref) => {
        expect(row(ref, '0')).toEqual({
          key: '0',
          first_note: 'multi\nline, 0',
          last_note: 'n4',
          first_code: '0',
          last_amount: 3,
          last_zip: 39994,
          count: 20_000,
        });
        expect(row(ref, '7')).toMatchObject({ first_code: '2', count: 19_999 });
        expect(badAt(ref)).toEqual([['big.csv', badLine, 'zip']]);
      },
    },
    {
      name: 'CSV over splits (120,000 rows): shuffle keeps every record with its columns typed for the whole job, 00501 in the last split a bad record',
      format: 'csv',
      files: [file],
      key: 'k',
      splits: 8,
      check: (ref) => {
        expect(ok(ref).columnTypes).toEqual({ k: 'string', code: 'string', zip: 'number', amount: 'number', note: 'string' });
        expect(ok(ref).records).toHaveLength(119_999);
        expect(ok(ref).records).toContainEqual({ k: '0', code: '0', zip: 10000, amount: 0, note: 'multi\nline, 0' });
        expect(ok(ref).records).toContainEqual({ k: '1000', code: '998', zip: 39998, amount: 0.5, note: 'n8' });
        expect(badAt(ref)).toEqual([['big.csv', badLine, 'zip']]);
      },
    },
  ];
}

/** Inferred number columns whose later values do not fit (after the 1,000-row sample). */
function lateValueCases(): Case[] {
  const late = (name: string, at: number, value: string, n = 1200) =>
    [
      name,
      plainCsv(
        ['k', 'zip', 'v'],
        range(n).map((i) => [`k${i % 3}`, i === at ? value : String(10000 + i), String(i % 5)]),
      ),
    ] as [string, string];
  return [
    {
      name: 'CSV sample: an inferred number column (1,200 plain numbers) whose row 1,100 is 00501 → a bad record naming file, line 1101 and column zip (shuffle reads every column)',
      format: 'csv',
      files: [late('late-zip.csv', 1099, '00501')],
      key: 'k',
      check: (ref) => {
        expect(badAt(ref)).toEqual([['late-zip.csv', 1101, 'zip']]);
        expect(ok(ref).records).toHaveLength(1199);
        expect(ok(ref).records).toContainEqual({ k: 'k0', zip: 10000, v: 0 });
      },
    },
    {
      name: 'CSV sample: the same file grouped with max of zip → the same bad record',
      format: 'csv',
      files: [late('late-zip-max.csv', 1099, '00501')],
      key: 'k',
      aggs: [count, agg('max', 'zip'), agg('sum', 'v')],
      check: (ref) => {
        expect(badAt(ref)).toEqual([['late-zip-max.csv', 1101, 'zip']]);
        expect(ok(ref).rows).toEqual([
          { key: 'k0', count: 400, max_zip: 11197, sum_v: 800 },
          { key: 'k1', count: 399, max_zip: 11198, sum_v: 796 },
          { key: 'k2', count: 400, max_zip: 11199, sum_v: 800 },
        ]);
      },
    },
    {
      name: 'CSV sample: A7 in row 1,001 (outside the sample) of an inferred number column → a bad record at line 1002',
      format: 'csv',
      files: [late('late-a7.csv', 1000, 'A7', 1100)],
      key: 'k',
      check: (ref) => {
        expect(ok(ref).columnTypes).toEqual({ k: 'string', zip: 'number', v: 'number' });
        expect(badAt(ref)).toEqual([['late-a7.csv', 1002, 'zip']]);
      },
    },
    {
      name: 'CSV sample: A7 in row 1,000 (the last sampled) makes the column string: every zip is its text',
      format: 'csv',
      files: [late('sampled-a7.csv', 999, 'A7', 1100)],
      key: 'k',
      check: (ref) => {
        expect(ok(ref).columnTypes).toEqual({ k: 'string', zip: 'string', v: 'number' });
        expect(ok(ref).bad).toEqual([]);
        expect(ok(ref).records).toContainEqual({ k: 'k0', zip: 'A7', v: 4 });
        expect(ok(ref).records).toContainEqual({ k: 'k0', zip: '10000', v: 0 });
      },
    },
  ];
}

// ---------------------------------------------------------------- running them

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'partd-exact-'));
const cliPath = path.resolve('dist/src/cli/main.js');
const slug = (i: number) => `case-${String(i).padStart(2, '0')}`;

interface Written {
  paths: string[];
  file: (name: string) => string;
  ref: Outcome;
}
const written = new Map<Case, Written>();
const parserChecked = new Set<string>();
function setUp(c: Case, i: number): Written {
  let w = written.get(c);
  if (!w) {
    const dir = path.join(root, slug(i));
    fs.mkdirSync(dir, { recursive: true });
    const paths = c.files.map(([name, text]) => {
      const p = path.join(dir, name);
      fs.writeFileSync(p, text);
      return p;
    });
    const file = (name: string) => path.join(dir, name);
    w = { paths, file, ref: reference({ format: c.format, files: paths, key: c.key, aggs: c.aggs, types: c.types }) };
    written.set(c, w);
  }
  return w;
}

const cliCan = (c: Case) =>
  c.cli ??
  (c.aggs ?? []).every(
    (a) => ['count', 'sum', 'min', 'max', 'mean'].includes(a.op) && a.name === (a.op === 'count' ? 'count' : `${a.op}_${a.field}`),
  );

type Result = { rows?: Row[]; records?: Record<string, unknown>[]; bad: number };

/** The error's text, its causes' included (a ShuffleError keeps the worker's error as cause). */
function errorText(e: unknown): string {
  const parts: string[] = [];
  for (let x = e as { message?: string; cause?: unknown } | undefined, n = 0; x && n < 5; x = x.cause as typeof x, n++)
    parts.push(String(x.message ?? x));
  return parts.join(' | cause: ');
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const word = (s: string) => new RegExp(`(^|[^\\w.])${escape(s)}($|[^\\w.])`);

/** The message names this bad record: its file, its line, its field (and for an inferred column, `types`). */
function names(message: string, b: Bad): boolean {
  return (
    message.includes(path.basename(b.file)) &&
    new RegExp(`\\bline ${b.line}(?!\\d)`).test(message) &&
    (b.field === undefined || word(b.field).test(message)) &&
    (!b.hint || /types/.test(message))
  );
}
function expectNamesOneOf(message: string, bad: Bad[]): void {
  const hit = bad.some((b) => names(message, b));
  if (!hit)
    throw new Error(
      `the error does not name any bad record as file, line and field.\n  error: ${message}\n  bad records: ${bad.map((b) => `${path.basename(b.file)} line ${b.line}${b.field ? ` field ${b.field}` : ''}${b.hint ? ' (+ how to declare: types)' : ''} — ${b.why}`).join('\n               ')}`,
    );
}

async function runLibrary(c: Case, w: Written, onBadRecord: 'error' | 'skip', progress?: (p: unknown) => void): Promise<Result> {
  const input =
    c.format === 'csv' ? { csv: w.paths.length === 1 ? w.paths[0]! : w.paths } : { ndjson: w.paths.length === 1 ? w.paths[0]! : w.paths };
  const options: Record<string, unknown> = {
    input,
    key: c.key,
    workers: 2,
    partitions: 4,
    onBadRecord,
    ...(c.types ? { types: c.types } : {}),
    ...(c.splits ? { splits: c.splits } : {}),
    ...(progress ? { progress } : {}),
  };
  if (c.aggs) {
    const aggregate = Object.fromEntries(c.aggs.map((a) => [a.name, a.field === undefined ? { op: a.op } : { op: a.op, field: a.field }]));
    const groups = await groupBy({ ...options, aggregate } as never);
    for (const [k, r] of groups) expect(Object.is(k, r.key)).toBe(true);
    return { rows: sortRows([...groups.values()] as Row[]), bad: groups.stats!.badRecords };
  }
  const h = await shuffle(options as never);
  try {
    const records: Record<string, unknown>[] = [];
    for (let p = 0; p < h.partitions; p++) records.push(...((await h.get(p)) as Record<string, unknown>[]));
    return { records: sortRecords(records), bad: h.stats.badRecords };
  } finally {
    await h.close();
  }
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  out?: string;
}
/** The CLI of the build, run in a child process. */
const partd = (args: string[]): Promise<Run> => runNode(cliPath, args);
let runs = 0;
async function runCli(c: Case, w: Written, onBadRecord: 'error' | 'skip'): Promise<Run & { result?: Result }> {
  const args = [
    c.aggs ? 'groupby' : 'shuffle',
    ...w.paths,
    '--key',
    c.key,
    '--workers',
    '2',
    '--partitions',
    '4',
    '--on-bad-record',
    onBadRecord,
    '--quiet',
  ];
  if (c.types)
    args.push(
      '--types',
      Object.entries(c.types)
        .map(([f, t]) => `${f}:${t}`)
        .join(','),
    );
  const out = path.join(root, `out-${runs++}`);
  if (c.aggs) for (const a of c.aggs) args.push(a.op === 'count' ? '--count' : `--${a.op}`, ...(a.field === undefined ? [] : [a.field]));
  else args.push('--out', out);
  const r = await partd(args);
  if (r.code !== 0) return r;
  const parse = (text: string) =>
    text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const skipped = /([\d,]+) bad records? skipped/.exec(r.stderr);
  const bad = skipped ? Number(skipped[1]!.replace(/,/g, '')) : 0;
  if (c.aggs) return { ...r, result: { rows: sortRows(parse(r.stdout) as Row[]), bad } };
  const records = fs.readdirSync(out).flatMap((f) => parse(fs.readFileSync(path.join(out, f), 'utf8')));
  return { ...r, result: { records: sortRecords(records), bad } };
}

/** Rows equal, numbers of `tolerance` columns within a relative 1e-12, the rest exactly. */
function expectRows(actual: Row[], expected: Row[], tolerance: string[] = []): void {
  const strip = (rows: Row[]) => rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !tolerance.includes(k))));
  expect(strip(actual)).toEqual(strip(expected));
  for (let i = 0; i < expected.length; i++) {
    for (const t of tolerance) {
      const a = actual[i]![t];
      const e = expected[i]![t] as number;
      expect(typeof a).toBe('number');
      if (Math.abs((a as number) - e) > 1e-12 * Math.max(1, Math.abs(e))) expect(a).toBe(e);
    }
  }
}

function expectResult(actual: Result, ref: Outcome & { kind: 'ok' }, c: Case, onBadRecord: 'error' | 'skip'): void {
  if (c.aggs) expectRows(actual.rows!, ref.rows, c.tolerance);
  else expect(actual.records).toEqual(ref.records);
  expect(actual.bad).toBe(onBadRecord === 'skip' ? ref.bad.length : 0);
}

beforeAll(() => {
  try {
    fs.accessSync(cliPath);
  } catch {
    throw new Error(`${cliPath} is missing: build first (npx tsc -p tsconfig.json)`);
  }
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe.each(cases.map((c, i) => [c.name, c, i] as const))('%s', (_, c, i) => {
  it('the reference gives what docs/types.md says (hand-written expectations)', () => {
    const w = setUp(c, i);
    c.check(w.ref, w.file);
  });

  it("the reference CSV parser reads the files as csv-parse does (bom: true, cast: false, records end in '\\r\\n' or '\\n')", () => {
    const w = setUp(c, i);
    if (c.format !== 'csv') return;
    for (const p of w.paths) {
      const text = fs.readFileSync(p, 'utf8');
      if (parserChecked.has(text)) continue;
      parserChecked.add(text);
      const mine = parseCsv(text);
      const theirs = parse(text, {
        bom: true,
        cast: false,
        record_delimiter: ['\r\n', '\n'],
        relax_column_count: c.ragged === true,
      }) as string[][];
      expect([mine.header, ...mine.rows.map((r) => r.fields)]).toEqual(theirs);
    }
  });

  for (const onBadRecord of ['error', 'skip'] as const) {
    it(`library, onBadRecord: ${onBadRecord}`, async () => {
      const w = setUp(c, i);
      const ref = w.ref;
      if (ref.kind === 'fatal') {
        const progress: unknown[] = [];
        const e = await runLibrary(c, w, onBadRecord, (p) => progress.push(p)).then(
          (r) => {
            throw new Error(`expected an error naming ${ref.field} and ${path.basename(ref.file)}; got ${JSON.stringify(r).slice(0, 300)}`);
          },
          (err: unknown) => err,
        );
        const text = errorText(e);
        expect(text).toContain(path.basename(ref.file));
        expect(text).toMatch(word(ref.field));
        expect(progress).toEqual([]); // before any work: no split read
        return;
      }
      if (onBadRecord === 'skip' && ref.bad.length === 0) return; // the same run as with 'error'
      if (onBadRecord === 'error' && ref.bad.length > 0) {
        const e = await runLibrary(c, w, onBadRecord).then(
          (r) => {
            throw new Error(`expected a bad record error (${ref.bad.length} bad records); got ${JSON.stringify(r).slice(0, 300)}`);
          },
          (err: unknown) => err,
        );
        expectNamesOneOf(errorText(e), ref.bad);
        return;
      }
      expectResult(await runLibrary(c, w, onBadRecord), ref, c, onBadRecord);
    });

    it(`CLI, --on-bad-record ${onBadRecord}`, async () => {
      const w = setUp(c, i);
      const ref = w.ref;
      if (!cliCan(c)) return; // first/last/collect: the CLI has no option for them
      if (onBadRecord === 'skip' && ref.kind === 'ok' && ref.bad.length === 0) return;
      const r = await runCli(c, w, onBadRecord);
      if (ref.kind === 'fatal') {
        // exit 1 (bad input) or 2 (bad usage): docs/types.md does not say which a header without the column is
        expect([1, 2]).toContain(r.code);
        expect(r.stdout).toBe('');
        expect(r.stderr).toMatch(/^partd: [^\n]*\n$/);
        expect(r.stderr).toContain(path.basename(ref.file));
        expect(r.stderr).toMatch(word(ref.field));
        return;
      }
      if (onBadRecord === 'error' && ref.bad.length > 0) {
        if (r.code !== 1) throw new Error(`expected exit 1 for a bad record; got exit ${r.code}: ${r.stderr.trim().split('\n')[0]}`);
        expect(r.stderr).toMatch(/^partd: [^\n]*\n$/);
        expectNamesOneOf(r.stderr, ref.bad);
        return;
      }
      if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr.trim().split('\n')[0]}`);
      expectResult(r.result!, ref, c, onBadRecord);
    });
  }
});

it(`the table holds a case per rule (${cases.length})`, () => expect(cases.length).toBeGreaterThanOrEqual(30));
