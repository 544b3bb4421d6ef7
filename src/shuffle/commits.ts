/**
 * How a shuffle's progress is kept in its store, so that retries and re-runs count every
 * record exactly once:
 *
 * - `tuple('job')`: the job (input, key, P, aggregations, splits). A re-run on a kept store
 *   resumes the job it holds, and refuses a different one.
 * - `tuple('split', s, k)`: marker of part k of split s — the record positions [from, to) it
 *   holds, its counts, and `final` on the split's last part. It is written in the same
 *   transaction as the part's chunks, so a part is entirely there or not at all.
 * - `tuple('lease', s)`: the attempt allowed to commit for split s. The coordinator sets it
 *   before each attempt; a commit checks it (and that its marker is new) inside its
 *   transaction, so an attempt given up on (timed out, say) can never commit afterwards.
 */
import { keyId, tuple, type Key } from '../keys.js';
import type { Lmdb } from '../stores/lmdb.js';

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

/** A commit refused by its guard: a stale attempt, or a part already there. */
export class CommitConflict extends Error {
  override name = 'CommitConflict';
}

/** The guard of a part's commit (runs inside its transaction). */
export function commitGuard(split: number, part: number, attempt: number): (get: (key: Key) => Uint8Array) => void {
  return (get) => {
    const lease = get(leaseKey(split));
    if (lease.length > 0 && Number(utf8(lease)) !== attempt) throw new CommitConflict(`split ${split} attempt ${attempt}: superseded by attempt ${utf8(lease)}`);
    if (get(markerKey(split, part)).length > 0) throw new CommitConflict(`split ${split} part ${part} is already committed`);
    if (part > 0 && get(markerKey(split, part - 1)).length === 0) throw new CommitConflict(`split ${split} part ${part - 1} is missing`);
  };
}

/** Lets `attempt` (alone) commit for `split`. */
export async function grantLease(store: Lmdb, split: number, attempt: number): Promise<void> {
  await store.setId(keyId(leaseKey(split)), Buffer.from(String(attempt)));
}

