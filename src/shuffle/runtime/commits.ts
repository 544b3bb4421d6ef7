/**
 * How a shuffle's progress is kept in its store, so that retries and re-runs count every
 * record exactly once:
 *
 * - `tuple('job')`: the job (input, key, P, aggregations, splits). A re-run on a kept store
 *   resumes the job it holds, and refuses a different one.
 * - `tuple('split', s, k)`: marker of part k of split s — the record positions [from, to) it
 *   holds, its counts, and `final` on the split's last part. A scatter session commits the
 *   parts of every split it read since its last commit, with their records, in ONE
 *   transaction: all of them are there, or none.
 * - `tuple('owner')`: the claim of the job running on the store (runtime/job.ts): its process, host
 *   and session, one JSON line per claim (the last one counts). Written with the job record in
 *   one transaction, deleted when the job ends; a claim whose process died is taken over.
 * - `tuple('lease', s)`: the session allowed to commit for split s. The coordinator sets it
 *   before handing the split out; a commit checks it (and that its marker is new) inside its
 *   transaction, so a session given up on (timed out, say) can never commit afterwards.
 */
import { CommitConflict } from '../../errors.js';
import { keyId, tuple, type Key } from '../../keys.js';
import { hooksOf } from '../../partd.js';
import type { Lmdb } from '../../stores/lmdb/lmdb.js';

/** The marker of one committed part. */
export interface PartMarker {
  from: number;
  to: number;
  records: number;
  bad: number;
  bytes: number;
  final: boolean;
}

export const jobKey = (): Key => tuple('job');
export const ownerKey = (): Key => tuple('owner');
export const markerKey = (split: number, part: number): Key => tuple('split', split, part);
export const leaseKey = (split: number): Key => tuple('lease', split);

/** Bytes as UTF-8 text. */
export const utf8 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');

/** The committed parts of a split, in order. */
export async function readMarkers(store: Lmdb, split: number): Promise<PartMarker[]> {
  const out: PartMarker[] = [];
  for (;;) {
    const bytes = await store.get(markerKey(split, out.length));
    if (bytes.length === 0) return out;
    out.push(JSON.parse(utf8(bytes)) as PartMarker);
  }
}

/** Part `part` of split `split`, committed under `lease` (the session's token). */
export interface SplitPart {
  split: number;
  part: number;
  lease: string;
  marker: PartMarker;
}

/** The guard of a commit (runs inside its transaction): every part's lease, and its place in its split. */
export function commitGuard(parts: readonly SplitPart[]): (get: (key: Key) => Uint8Array) => void {
  return (get) => {
    for (const { split, part, lease } of parts) {
      const held = get(leaseKey(split));
      if (held.length > 0 && utf8(held) !== lease) throw new CommitConflict(`split ${split}: its lease moved to another session`);
      if (get(markerKey(split, part)).length > 0) throw new CommitConflict(`split ${split} part ${part} is already committed`);
      if (part > 0 && get(markerKey(split, part - 1)).length === 0) throw new CommitConflict(`split ${split} part ${part - 1} is missing`);
    }
  };
}

/**
 * Lets the session holding `lease` (alone) commit for `split`. A hook, as no public call replaces
 * a value in one step (`iset` writes once per instance; a delete then an append leaves a gap).
 */
export async function grantLease(store: Lmdb, split: number, lease: string): Promise<void> {
  await hooksOf(store).setId(keyId(leaseKey(split)), Buffer.from(lease));
}
