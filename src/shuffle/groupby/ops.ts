/**
 * The aggregation ops: one table that the plan, the value checks and the per-key states all
 * read (groupby/index.ts, aggregations.ts, groups.ts, options.ts).
 *
 * An op's state lives in columns indexed by group number `k` (groups.ts compiles each plan into
 * straight-line code from the snippets below). A new op is one entry here, giving:
 * - `field`: whether it reads a field ('none', 'required', or 'optional': then the whole record);
 * - `takes`: the values it accepts, if it checks them (docs/types.md): 'numbers' (finite
 *   numbers, and a CSV column it reads is typed a number), 'ordered' (numbers, or strings on a
 *   string field) or 'declared' (anything, checked against a declared type);
 * - `ordinal`: it reads records' ordinals (`ord`: input order, see aggregations.ts `ordinal`);
 * - `keeps`: it keeps its field's values as they are, so each must be one MessagePack can store;
 * - `module`: its functions come from a user module (`u`), named by the option `reducer`;
 * - `columns`: its state's columns, 'f' a Float64Array (numbers only), 'o' an array;
 * - JavaScript snippets over `Code`: `init` a new group from a record, `add` a record, `take` a
 *   new group from a partial state `y`, `merge` a partial state, `state` the partial state that
 *   crosses threads (MessagePack), `final` the result.
 */

/** What a snippet is given: its columns at group `k`, the record's value and partial state, its module. */
export interface Code {
  /** Its columns at the group, as assignable expressions (`f0[k]`), in `columns` order. */
  s: string[];
  /** The record's value of its field (a local); the record itself without one. */
  v: string;
  /** A partial state coming in (take, merge). */
  y: string;
  /** Its user module's reducer (`module` ops). */
  u: string;
}

/** The snippets of an op. */
export type Snippet = 'init' | 'add' | 'take' | 'merge' | 'state' | 'final';

export interface OpSpec extends Record<Snippet, (c: Code) => string> {
  field: 'none' | 'required' | 'optional';
  takes?: 'numbers' | 'ordered' | 'declared';
  ordinal?: true;
  keeps?: true;
  module?: true;
  columns: readonly ('f' | 'o')[];
}

/** The partial state of a one-column op is its column. */
const single = {
  take: ({ s: [a], y }: Code) => `${a} = ${y};`,
  state: ({ s: [a] }: Code) => a!,
  final: ({ s: [a] }: Code) => a!,
};

/** min and max: the least or greatest value by `<` (numbers, or strings by code units). */
const extreme = (op: '<' | '>') =>
  ({
    field: 'required',
    takes: 'ordered',
    columns: ['o'], // strings too
    init: ({ s: [a], v }) => `${a} = ${v};`,
    add: ({ s: [a], v }) => `{ const x = ${v}, m = ${a}; if (m === null || x ${op} m) ${a} = x; }`,
    merge: ({ s: [a], y }) => `{ const x = ${y}, m = ${a}; if (x !== null && (m === null || x ${op} m)) ${a} = x; }`,
    ...single,
  }) satisfies OpSpec;

/** first and last: the value of the least or greatest ordinal; the state is `[ord, value]`, a missing value null. */
const byOrdinal = (op: '<' | '>') =>
  ({
    field: 'required',
    takes: 'declared',
    ordinal: true,
    keeps: true,
    columns: ['f', 'o'],
    init: ({ s: [o, x], v }) => `${o} = ord; ${x} = ${v} ?? null;`,
    add: ({ s: [o, x], v }) => `if (ord ${op} ${o}) { ${o} = ord; ${x} = ${v} ?? null; }`,
    take: ({ s: [o, x], y }) => `{ const m = ${y}; ${o} = m[0]; ${x} = m[1]; }`,
    merge: ({ s: [o, x], y }) => `{ const m = ${y}; if (m !== null && m[0] ${op} ${o}) { ${o} = m[0]; ${x} = m[1]; } }`,
    state: ({ s: [o, x] }) => `[${o}, ${x}]`,
    final: ({ s: [, x] }) => x!,
  }) satisfies OpSpec;

/**
 * Sums kept exact: a group's sum is `a + c` exactly, two doubles, each addition checked (Knuth's
 * TwoSum of `a` and the value, then of `c` and that rounding error: exact when its own error is
 * 0). The rare addition that is not exact (bits spanning more than two doubles, or past
 * Number.MAX_VALUE) moves the group to `X` (exact.ts: `a` an index there, `c` NaN). Rounded once
 * at the end, the sum is the exact sum rounded, whatever the order of the records and partial
 * sums (splits, workers, partitions). `x` is evaluated once.
 */
const exactAdd = (a: string, c: string, x: string) => `{
  const x_ = ${x}, t_ = ${a}, s_ = t_ + x_, z_ = s_ - t_, e_ = (t_ - (s_ - z_)) + (x_ - z_), c_ = ${c}, u_ = c_ + e_, w_ = u_ - c_;
  if ((c_ - (u_ - w_)) + (e_ - w_) === 0) { ${a} = s_; ${c} = u_; } else { ${a} = X.add(t_, c_, x_); ${c} = NaN; }
}`;
/** The sum rounded once (a + c is the exact sum rounded when it is exact). */
const rounded = (a: string, c: string) => `(${c} === ${c} ? ${a} + ${c} : X.value(${a}))`;
/** A part of a partial state (exact.ts `parts`: a double, or units as decimal text) added exactly; `p` is evaluated once. */
const addPart = (a: string, c: string, p: string) => `{
  const p_ = ${p};
  if (typeof p_ === 'string') { ${a} = X.addText(${a}, ${c}, p_); ${c} = NaN; } else ${exactAdd(a, c, 'p_')}
}`;
/** A partial state `m`'s parts from index `from` on (a mean's count is not one: its caller skips it). */
const addParts = (a: string, c: string, m: string, from: number) =>
  `for (let i_ = ${from}; i_ < ${m}.length; i_++) ${addPart(a, c, `${m}[i_]`)}`;

/** The ops, in the order the option check lists them. */
export const OPS = {
  count: {
    field: 'none',
    columns: ['f'],
    init: ({ s: [a] }) => `${a} = 1;`,
    add: ({ s: [a] }) => `${a}++;`,
    merge: ({ s: [a], y }) => `${a} += ${y};`,
    ...single,
  },
  sum: {
    field: 'required',
    takes: 'numbers',
    columns: ['f', 'f'],
    init: ({ s: [a, c], v }) => `${a} = 0 + ${v}; ${c} = 0;`, // 0 + -0 is 0, as a sum from 0
    add: ({ s: [a, c], v }) => exactAdd(a!, c!, v),
    // a partial state: one double, or the parts of one (exact.ts `parts`)
    take: ({ s: [a, c], y }) =>
      `{ const m = ${y}; ${a} = 0; ${c} = 0; if (typeof m === 'number') ${a} = m; else ${addParts(a!, c!, 'm', 0)} }`,
    merge: ({ s: [a, c], y }) => `{ const m = ${y}; if (typeof m === 'number') ${exactAdd(a!, c!, 'm')} else ${addParts(a!, c!, 'm', 0)} }`,
    state: ({ s: [a, c] }) => `(${c} === 0 ? ${a} : ${c} === ${c} ? [${a}, ${c}] : X.parts(${a}))`,
    final: ({ s: [a, c] }) => rounded(a!, c!),
  },
  min: extreme('<'),
  max: extreme('>'),
  mean: {
    field: 'required',
    takes: 'numbers',
    columns: ['f', 'f', 'f'],
    init: ({ s: [t, n, c], v }) => `${t} = 0 + ${v}; ${n} = 1; ${c} = 0;`,
    add: ({ s: [t, n, c], v }) => `${exactAdd(t!, c!, v)} ${n}++;`,
    // a partial state: `[the sum's first part, n, its other parts…]`
    take: ({ s: [t, n, c], y }) =>
      `{ const m = ${y}; ${t} = 0; ${c} = 0; ${n} = m[1]; ${addPart(t!, c!, 'm[0]')} ${addParts(t!, c!, 'm', 2)} }`,
    merge: ({ s: [t, n, c], y }) => `{ const m = ${y}; ${n} += m[1]; ${addPart(t!, c!, 'm[0]')} ${addParts(t!, c!, 'm', 2)} }`,
    state: ({ s: [t, n, c] }) =>
      `(${c} === 0 ? [${t}, ${n}] : ${c} === ${c} ? [${t}, ${n}, ${c}] : ((p) => [p[0], ${n}, ...p.slice(1)])(X.parts(${t})))`,
    final: ({ s: [t, n, c] }) => `(${n} === 0 ? null : ${rounded(t!, c!)} / ${n})`,
  },
  first: byOrdinal('<'),
  last: byOrdinal('>'),
  collect: {
    field: 'required',
    takes: 'declared',
    ordinal: true,
    keeps: true,
    columns: ['o'],
    // segments [ord of the first value, values, ord of the last], each a run of one split in input
    // order: a session reads splits 0, 2, 5… and a gather meets them in commit order, so a new
    // segment starts when the split changes (runs of different splits never interleave); the
    // result is the segments in order of their first ordinal
    init: ({ s: [a], v }) => `${a} = [[ord, [${v} ?? null], ord]];`,
    add: ({ s: [a], v }) =>
      `{ const g = ${a}, l = g[g.length - 1], z = l[2] ?? l[0];
         if (ord > z && ord - (ord % ${2 ** 32}) === z - (z % ${2 ** 32})) (l[1].push(${v} ?? null), (l[2] = ord)); else g.push([ord, [${v} ?? null], ord]); }`,
    merge: ({ s: [a], y }) => `${a} = ${a}.concat(${y});`,
    final: ({ s: [a] }) => `${a}.sort((p, q) => p[0] - q[0]).flatMap(([, vs]) => vs)`,
    take: single.take,
    state: single.state,
  },
  custom: {
    field: 'optional',
    module: true,
    columns: ['o'],
    // a null field reaches `add` as undefined, as a missing one does
    init: ({ s: [a], v, u }) => `${a} = ${u}.add(${u}.init(), ${v} ?? undefined, r);`,
    add: ({ s: [a], v, u }) => `${a} = ${u}.add(${a}, ${v} ?? undefined, r);`,
    merge: ({ s: [a], y, u }) => `${a} = ${u}.merge(${a}, ${y});`,
    final: ({ s: [a], u }) => `(${u}.finish ? ${u}.finish(${a}) : ${a})`,
    take: single.take,
    state: single.state,
  },
} satisfies Record<string, OpSpec>;

export type OpName = keyof typeof OPS;

/** The ops that read a field of this kind. */
export type OpsWithField<F extends OpSpec['field']> = { [K in OpName]: (typeof OPS)[K]['field'] extends F ? K : never }[OpName];

/** The ops whose `takes` is `t`, in table order. */
export const opsTaking = (t: OpSpec['takes']): OpName[] => (Object.keys(OPS) as OpName[]).filter((op) => (OPS[op] as OpSpec).takes === t);
