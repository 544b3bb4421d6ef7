/**
 * A distributed job's Redis keys. Its bookkeeping shares one hash slot (`partd:{j:NAME}:…`), so
 * a commit is one atomic script on a Cluster too; its blocks do not (`partd:j:NAME:b:…`), so they
 * spread over the Cluster's shards. Names hold no `{ } * ? [ ] \` (checked as a store's are).
 */
/** A gather task's field in the `gathered` hash: its coordinator's run, phase and number. */
export const taskField = (run: string, phase: number, task: number): string => `${run}:${phase}:${task}`;

export class JobKeys {
  readonly base: string;
  /** The SCAN patterns of every key of the job: bookkeeping, and blocks. */
  readonly patterns: string[];
  readonly #blocks: string;

  constructor(readonly name: string) {
    this.base = `partd:{j:${name}}:`;
    this.#blocks = `partd:j:${name}:b:`;
    this.patterns = [`${this.base}*`, `${this.#blocks}*`];
  }

  /** The job record (JSON): what tells a re-run of the same job from another, and its splits. */
  get job(): string {
    return this.base + 'job';
  }
  /** The running coordinator's claim (expires unless refreshed). */
  get owner(): string {
    return this.base + 'owner';
  }
  /** Hash split → its Commit (JSON). */
  get commits(): string {
    return this.base + 'commits';
  }
  /** Hash split → generation. */
  get gens(): string {
    return this.base + 'gen';
  }
  /** Hash `phase:task` → Gathered (JSON). */
  get gathered(): string {
    return this.base + 'gathered';
  }
  /** List of ClusterEvents (JSON). */
  get events(): string {
    return this.base + 'events';
  }
  /** A records split's records (v8-serialised). */
  records(split: number): string {
    return `${this.base}in:${split}`;
  }
  /** A gather task attempt's result (v8-serialised). */
  result(phase: number, task: number, token: string): string {
    return `${this.base}r:${phase}:${task}:${token}`;
  }
  /** Block `n` of a split attempt. */
  block(split: number, token: string, n: number): string {
    return `${this.#blocks}${split}:${token}:${n}`;
  }
}
