/**
 * The splits of a scatter phase: what is known of each, the queue sessions take them from, and
 * the progress events they make (scatter/phase.ts runs the sessions).
 */
import type { PartMarker } from '../runtime/commits.js';
import type { Plan } from '../options.js';
import type { SplitSpec } from '../input/splits.js';

/** A split and what is known of it. */
export interface SplitState {
  spec: SplitSpec;
  /** Its committed parts, in order (read from the store when resuming). */
  committed: PartMarker[];
  /** Why its attempts failed. */
  causes: Error[];
  /** What its last complete read counted, for progress. */
  read?: { records: number };
}

export const final = (s: SplitState) => s.committed.at(-1)?.final === true;
/** A count over a split's committed parts. */
export const committedSum = (s: SplitState, field: 'records' | 'bad' | 'bytes') => s.committed.reduce((n, x) => n + x[field], 0);
export const fileBytes = (spec: SplitSpec) => (spec.kind === 'ndjson' || spec.kind === 'csv' ? spec.end - spec.start : 0);

/**
 * Splits waiting for a session; `take` waits while more may come. Taken from a moving head,
 * not shifted off, and never spread into arguments: a queue may hold any number of splits.
 */
export class SplitQueue {
  #items: (SplitState | undefined)[] = [];
  #head = 0;
  #closed = false;
  #waiters: (() => void)[] = [];

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(s: SplitState): void {
    this.#items.push(s);
    this.#wake();
  }

  /** Puts splits back at the front (a failed session's), in split order. */
  returnSplits(states: Iterable<SplitState>): void {
    const back = [...states].sort((a, b) => a.spec.index - b.spec.index);
    if (back.length === 0) return;
    this.#items = (back as (SplitState | undefined)[]).concat(this.#items.slice(this.#head));
    this.#head = 0;
    this.#wake();
  }

  /** No more splits will be pushed (returned ones still may). */
  close(): void {
    this.#closed = true;
    this.#wake();
  }

  /** The next split; null when the queue is closed and empty. */
  async take(): Promise<SplitState | null> {
    while (this.length === 0 && !this.#closed) await new Promise<void>((r) => this.#waiters.push(r));
    let s: SplitState | null = null;
    if (this.length > 0) {
      s = this.#items[this.#head]!;
      this.#items[this.#head++] = undefined;
      // drop the taken slots once they are half the array: O(1) a take, amortised
      if (this.#head > 1024 && this.#head * 2 > this.#items.length) ((this.#items = this.#items.slice(this.#head)), (this.#head = 0));
    }
    this.#wake(); // room for the input loop
    return s;
  }

  /** Resolves once fewer than `n` splits wait. */
  async room(n: number): Promise<void> {
    while (this.length >= n) await new Promise<void>((r) => this.#waiters.push(r));
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    waiters.forEach((w) => w());
  }
}

/** The progress events of the phase, from running totals (a records input may make many thousand splits). */
export class Progress {
  records = 0;
  bytesRead = 0;
  bytesAppended = 0;
  splitsDone = 0;

  constructor(
    readonly p: Plan,
    readonly states: Map<number, SplitState>,
    readonly planned: boolean,
  ) {}

  /** A split read to its end (again, after a retry: it replaces the earlier report). */
  read(s: SplitState, r: { records: number }): void {
    if (s.read === undefined) (this.splitsDone++, (this.bytesRead += fileBytes(s.spec)));
    this.records += r.records - (s.read?.records ?? 0);
    s.read = r;
    this.emit();
  }

  committed(bytes: number): void {
    this.bytesAppended += bytes;
    this.emit();
  }

  emit(): void {
    const { records, bytesRead, bytesAppended, splitsDone } = this;
    this.p.progress({
      phase: 'scatter',
      records,
      bytesRead,
      bytesTotal: this.p.bytesTotal,
      bytesAppended,
      splitsDone,
      splits: this.planned ? this.states.size : undefined,
    });
  }
}
