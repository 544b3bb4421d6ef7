/**
 * The options of `join`, checked before any work (the coordinating thread), and the job they
 * describe: both inputs planned into splits (the right's numbered from RIGHT_SPLITS), one job
 * record and one claim on the store for both, and a scatter `Plan` per side sharing them, so
 * that a kept store resumes both sides of the same join whatever its `how`.
 */
import { describe } from '../../errors.js';
import { checkNames, positiveInt } from '../checks.js';
import { planInput, type PlannedInput } from '../input/plan.js';
import {
  checkRun,
  checkStore,
  keySpec,
  RUN_OPTION_NAMES,
  type Plan,
  type RunOptions,
  type ShuffleInput,
  type ShuffleOptions,
} from '../options.js';
import { RIGHT_SPLITS, type JoinHow, type KeySpec, type Side } from '../protocol.js';
import { openJob } from '../runtime/job.js';
import type { ModuleRef } from '../runtime/modules.js';

/** A join key: a field name, or a module exporting `(record) => key`. */
export type JoinKey = string | ModuleRef;

/** Options of `join`: two inputs, the key of each, which unmatched rows to keep, and a shuffle's options. */
export interface JoinOptions<L = unknown, R = unknown> extends Omit<ShuffleOptions, 'input' | 'key'> {
  left: ShuffleInput<L>;
  right: ShuffleInput<R>;
  /** The key of both inputs (a field name or `{ module, export }`), or of each: `{ left, right }`. */
  on: JoinKey | { left: JoinKey; right: JoinKey };
  /** Which unmatched rows the join keeps: `'inner'` (default) none, `'left'`, `'right'`, or `'outer'` both. */
  how?: JoinHow;
  /**
   * Whether a small side may be broadcast (default true): read whole by every task while the other
   * side streams past it from its input, unshuffled (docs/join.md says when).
   */
  broadcast?: boolean;
}

/** A checked join, ready to run. */
export interface JoinPlan {
  how: JoinHow;
  broadcast: boolean;
  keys: [KeySpec, KeySpec];
  /** Each side's scatter: the same store, claim and options; its own input, key and splits. */
  sides: [Plan, Plan];
  run: RunOptions;
  /** Threads of the job's pool. */
  threads: number;
  /** The store was made for this job (no `store` option): dropped at the end. */
  temporary: boolean;
}

const OPTION_NAMES = ['left', 'right', 'on', 'how', 'broadcast', ...RUN_OPTION_NAMES] as const;
const HOWS: readonly JoinHow[] = ['inner', 'left', 'right', 'outer'];
const SIDES = ['left', 'right'] as const;

/** The `on` option as each side's key, with the argument naming it in errors. */
function keysOf(on: unknown): [unknown, string][] {
  const sided = on !== null && typeof on === 'object' && !('module' in on) && ('left' in on || 'right' in on);
  if (!sided) return SIDES.map(() => [on, 'on']);
  checkNames(on, SIDES, 'on');
  return SIDES.map((side) => [(on as Record<string, unknown>)[side], `on.${side}`]);
}

/** `e` with the words naming the input and the key (planInput's `input`, `key`) naming this side's options instead. */
function renamed(e: unknown, side: (typeof SIDES)[number], keyArg: string): unknown {
  if (e instanceof Error) e.message = e.message.replace(/^input\b/, side).replace(/^key:/, `${keyArg}:`);
  return e;
}

/** Checks every option of a join and claims its store (or resumes the same join on it). */
export async function planJoin(options: JoinOptions): Promise<JoinPlan> {
  if (options === null || typeof options !== 'object') throw new TypeError('options: expected an object');
  checkNames(options, OPTION_NAMES, 'options'); // string keys: the internal FAULTS option is a symbol
  const run = checkRun(options);
  const how = options.how ?? 'inner';
  if (!HOWS.includes(how)) throw new RangeError(`how: expected 'inner', 'left', 'right' or 'outer', got ${describe(how)}`);
  const broadcast = options.broadcast ?? true;
  if (typeof broadcast !== 'boolean') throw new TypeError(`broadcast: expected true or false, got ${describe(broadcast)}`);
  const on = keysOf(options.on);
  const keys = [await keySpec(on[0]![0], run.types, on[0]![1]), await keySpec(on[1]![0], run.types, on[1]![1])] as [KeySpec, KeySpec];
  for (const [i, key] of keys.entries())
    if ('field' in key && key.field.split('.').includes('__proto__'))
      // the gather reads keys from the stored records, where msgpackr names that field __proto_: no row would match
      throw new RangeError(`${on[i]![1]}: a join key field named __proto__ is not supported (MessagePack stores it as __proto_)`);
  const splitCount = options.splits === undefined ? undefined : positiveInt(options.splits, 'splits', 0);
  const planned: PlannedInput[] = [];
  for (const side of [0, 1] as const) {
    const key = keys[side];
    // whole records reach the output: every CSV column is typed (docs/types.md)
    const reads = { key: 'field' in key ? key.field : undefined, numeric: [], fields: [], types: run.types, whole: true };
    try {
      planned.push(await planInput(options[SIDES[side]], run.workers, splitCount, reads));
    } catch (e) {
      throw renamed(e, SIDES[side], on[side]![1]);
    }
  }
  checkStore(options.store);
  const [left, right] = planned as [PlannedInput, PlannedInput];
  const records = [options.left, options.right].some((input) => 'records' in input);
  // a thread per split of the larger side at most (a records input is cut as it is read)
  const threads = records ? run.workers : Math.max(1, Math.min(run.workers, Math.max(left.splits.length, right.splits.length)));
  const splits = [...left.splits, ...right.splits.map((s, i) => ({ ...s, index: RIGHT_SPLITS + i }))];
  const job = {
    version: 2,
    join: { left: left.descriptor, right: right.descriptor },
    keys,
    types: run.types,
    partitions: run.partitions,
    splits,
  };
  const claim = await openJob(options.store, job);
  const sidePlan = (side: Side): Plan => {
    const mine = claim.splits.filter((s) => s.index >= RIGHT_SPLITS === (side === 1)); // the job's, as planned by the run that began it
    return {
      ...run,
      workers: mine.length > 0 ? Math.min(threads, mine.length) : threads,
      key: keys[side],
      store: claim.store,
      ownsStore: claim.ownsStore,
      input: options[SIDES[side]] as ShuffleInput,
      splits: mine,
      release: claim.release,
      bytesTotal: planned[side]!.bytesTotal,
    };
  };
  return { how, broadcast, keys, sides: [sidePlan(0), sidePlan(1)], run, threads, temporary: options.store === undefined };
}
