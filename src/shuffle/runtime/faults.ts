/**
 * Fault injection, for tests only: `PARTD_FAULTS` (JSON, read by the coordinator and sent
 * with each task) makes a worker fail at a chosen point of a chosen attempt:
 *
 *   [{ "at": "read", "split": 3, "attempt": 1, "after": 5000, "action": "throw" }]
 *
 * `at`: `read` (in a scatter worker, as it reads the split's record at position `after`),
 * `commit` (in the coordinator, inside the transaction committing the split's part `after`,
 * after its writes, before it commits: only `throw` makes sense there), `gather` (partition
 * `partition`, after `after` batches). `attempt` counts the split's (or partition's) failures
 * plus one. `action`: `throw`, `exit` (the worker thread exits), `hang` (spins until
 * terminated, e.g. by `taskTimeout`), `oom` (allocates until the worker's `resourceLimits` kill it).
 */

/** One injected fault. */
export interface Fault {
  at: 'read' | 'commit' | 'gather';
  split?: number;
  partition?: number;
  attempt: number;
  after?: number;
  action: 'throw' | 'exit' | 'hang' | 'oom';
}

/** The faults of the environment (none unless PARTD_FAULTS is set). */
export function faultsFromEnv(): Fault[] {
  const raw = process.env.PARTD_FAULTS;
  return raw ? (JSON.parse(raw) as Fault[]) : [];
}

/** A trigger that fires `fault` when called for the matching count. */
export function trigger(faults: readonly Fault[] | undefined, at: Fault['at'], where: { split?: number; partition?: number; attempt: number }): (count: number) => void {
  const mine = (faults ?? []).filter((f) => f.at === at && f.attempt === where.attempt && (f.split === undefined || f.split === where.split) && (f.partition === undefined || f.partition === where.partition));
  if (mine.length === 0) return () => undefined;
  return (count) => {
    for (const f of mine) if ((f.after ?? 0) === count) act(f);
  };
}

function act(f: Fault): void {
  switch (f.action) {
    case 'throw':
      throw new Error(`injected fault (${f.at} ${f.after ?? 0}, attempt ${f.attempt})`);
    case 'exit':
      process.exit(70);
    case 'hang': {
      const until = Date.now() + 10 * 60_000;
      while (Date.now() < until); // terminate() interrupts this loop
      throw new Error('injected hang ended');
    }
    case 'oom': {
      const hog: number[][] = [];
      for (;;) hog.push(new Array(1 << 20).fill(1.5));
    }
  }
}
