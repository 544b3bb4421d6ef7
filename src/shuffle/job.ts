/**
 * A job's claim on its store: one job runs on a store at a time. The job record (commits.ts
 * `jobKey`) says what the job is, so a re-run of the same job resumes it.
 */
import { jobKey, utf8 } from './commits.js';
import { Lmdb } from '../stores/lmdb.js';
import type { SplitSpec } from './splits.js';

/** A claimed job: its store, its splits (planned now, or by the run that is resumed) and how to end the claim. */
export interface Claim {
  store: Lmdb;
  /** The store was opened here (from a path, or temporary), so the job closes it. */
  ownsStore: boolean;
  splits: SplitSpec[];
  release(): Promise<void>;
}

/** Opens the job's store (`store`: an Lmdb, a directory, or undefined for a temporary one) and claims it for `job`. */
export async function openJob(store: string | Lmdb | undefined, job: { splits: SplitSpec[] } & Record<string, unknown>): Promise<Claim> {
  const ownsStore = !(store instanceof Lmdb);
  // noSync: only the coordinating thread writes a shuffle's store (see LmdbOptions.noSync).
  const opened = store instanceof Lmdb ? store : new Lmdb(store, { noSync: true });
  try {
    return { store: opened, ownsStore, ...(await claimJob(opened, job)) };
  } catch (e) {
    if (ownsStore) await opened.close();
    throw e;
  }
}

/**
 * Records the job in its store, or resumes the one there: the same job keeps its planned
 * splits; another job is refused (a store never mixes two shuffles).
 */
async function claimJob(store: Lmdb, job: { splits: SplitSpec[] } & Record<string, unknown>): Promise<Pick<Claim, 'splits' | 'release'>> {
  const held = await store.get(jobKey());
  const identity = (j: Record<string, unknown>) => JSON.stringify({ ...j, splits: undefined });
  if (held.length > 0) {
    const previous = JSON.parse(utf8(held)) as typeof job;
    if (identity(previous) !== identity(job)) {
      throw new Error(`store: ${store.path} holds another shuffle job (input, key, partitions or aggregations differ); use another directory, or drop that store`);
    }
    return { splits: previous.splits, release: async () => undefined };
  }
  for await (const _ of store.keys()) throw new Error(`store: ${store.path} is not empty and holds no shuffle job; give an empty or new directory`);
  await store.append([[jobKey(), Buffer.from(JSON.stringify(job))]]);
  return { splits: job.splits, release: async () => undefined };
}
