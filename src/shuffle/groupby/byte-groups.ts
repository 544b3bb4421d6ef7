/**
 * Groups keyed by bytes, in a scatter worker: the map-side combine of records a reader hands
 * over as a key's bytes and numbers (input/csv-fast.ts), with code compiled from the same op snippets
 * (ops.ts) as groups.ts and the same blocks out, so gather cannot tell them apart. Keys become strings
 * once per group, when drained.
 */
import { partitionOf } from '../partitioner.js';
import { specOf, type PlannedAgg } from './aggregations.js';
import type { Code, Snippet } from './ops.js';
import { ByteKeys } from './byte-keys.js';
import { ExactSums } from './exact.js';
import type { StateBlock } from './groups.js';
import type { KeyedRows } from '../input/splits.js';
import type { KeySpec } from '../protocol.js';

/** Partial states per key of bytes. */
export interface ByteGroups {
  /** The number of groups held. */
  readonly size: number;
  /**
   * Adds rows `[from, to)` of a block (keys in `bytes`, hashed in `rows.keyHash`, values in the order of `fields`), or
   * those before `room` groups are held; the index after the last row added.
   */
  addRows(bytes: Uint8Array, rows: KeyedRows, from: number, to: number, room: number): number;
  /** The groups as one block per partition (undefined where none), and forgets them. */
  drain(partitions: number): (StateBlock | undefined)[];
}

/**
 * The key field and value fields (distinct, in plan order) of a groupBy whose records a reader
 * may hand over as key bytes and numbers: a string key field, and ops that take numbers only
 * (count, sum, mean, and min and max of a number field). Undefined for any other job.
 */
export function byteFields(key: KeySpec, plan: readonly PlannedAgg[]): { key: string; values: string[] } | undefined {
  if (!('field' in key) || key.type === 'number') return undefined;
  const numeric = (a: PlannedAgg) => {
    const spec = specOf(a);
    if (spec.ordinal || spec.module) return false;
    return (
      spec.field === 'none' ||
      spec.takes === 'numbers' ||
      (spec.takes === 'ordered' && a.op !== 'custom' && (a.kind ?? 'number') === 'number')
    );
  };
  if (!plan.every(numeric)) return undefined;
  return { key: key.field, values: [...new Set(plan.flatMap((a) => (a.field === undefined ? [] : [a.field])))] };
}

const factories = new Map<string, () => ByteGroups>();

/** Byte-keyed groups for a plan of count, sum, mean, min and max over numbers; `fields`: the value fields, as handed over. */
export function byteGroupsOf(plan: readonly PlannedAgg[], fields: readonly string[]): ByteGroups {
  const id = JSON.stringify([plan.map((a) => [a.op, a.field]), fields]);
  let make = factories.get(id);
  if (make === undefined) factories.set(id, (make = compiled(plan, fields)));
  return make();
}

function compiled(plan: readonly PlannedAgg[], fields: readonly string[]): () => ByteGroups {
  const specs = plan.map(specOf);
  // every column a Float64Array: these plans hold numbers only; a group's columns side by
  // side in one array (`o`: the group's first), so a row touches one cache line of states
  const specsColumns = specs.map((spec) => spec.columns.length);
  const width = specsColumns.reduce((a, b) => a + b, 0);
  const offsets = specsColumns.map((_, i) => specsColumns.slice(0, i).reduce((a, b) => a + b, 0));
  const codes = plan.map((a, i): Code => ({
    s: specs[i]!.columns.map((_, j) => `S[o + ${offsets[i]! + j}]`),
    v: `v[at + ${fields.indexOf(a.field ?? '')}]`,
    y: '',
    u: '',
  }));
  const each = (snippet: Snippet, line = (code: string, _i: number) => code) =>
    specs.map((spec, i) => line(spec[snippet](codes[i]!), i)).join('\n');
  const source = `
    const keys = new ByteKeys();
    const X = new ExactSums();
    let cap = 1024, n = 0;
    let S = new Float64Array(cap * ${width});
    return {
      get size() { return n; },
      addRows(bytes, rows, r, last, room) {
        const starts = rows.keyFrom, ends = rows.keyTo, hashes = rows.keyHash, v = rows.values;
        for (; r < last && n < room; r++) {
          const at = r * ${fields.length};
          const k = keys.id(bytes, starts[r], ends[r], hashes[r]);
          const o = k * ${width};
          if (k === n) {
            if (++n > cap) {
              cap *= 2;
              const t = new Float64Array(cap * ${width});
              t.set(S);
              S = t;
            }
            ${each('init')}
          } else {
            ${each('add')}
          }
        }
        return r;
      },
      drain(P) {
        const blocks = new Array(P).fill(undefined);
        const strings = keys.keys();
        for (let k = 0; k < n; k++) {
          const key = strings[k], o = k * ${width}, h = keys.keyHash(k);
          const b = blocks[h >= 0 ? h % P : partitionOf(key, P)] ??= [[], ${plan.map(() => '[]').join(', ')}];
          b[0].push(key);
          ${each('state', (c, i) => `b[${i + 1}].push(${c});`)}
        }
        keys.clear();
        X.clear();
        n = 0;
        return blocks;
      },
    };`;
  const factory = new Function('ByteKeys', 'partitionOf', 'ExactSums', source) as (
    b: typeof ByteKeys,
    p: typeof partitionOf,
    x: typeof ExactSums,
  ) => ByteGroups;
  return () => factory(ByteKeys, partitionOf, ExactSums);
}
