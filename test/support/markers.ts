/** What a killed job's kept store holds: the records its split markers say were committed. */
import fs from 'node:fs';
import path from 'node:path';
import { Lmdb } from '../../src/index.js';
import { jobKey, readMarkers } from '../../src/shuffle/runtime/commits.js';

/**
 * The records committed to each split of the job in the store at `dir`, by split index
 * (empty if the process was killed before it made its store or recorded its job).
 */
export async function committedBySplit(dir: string): Promise<Map<number, number>> {
  const committed = new Map<number, number>();
  if (!fs.existsSync(path.join(dir, '.partd-lmdb'))) return committed; // killed before it made its store
  const store = new Lmdb(dir, { readOnly: true });
  try {
    const job = await store.get(jobKey());
    if (job.length === 0) return committed; // killed before it recorded its job
    const { splits } = JSON.parse(Buffer.from(job).toString('utf8')) as { splits: { index: number }[] };
    for (const { index } of splits)
      committed.set(
        index,
        (await readMarkers(store, index)).reduce((n, m) => n + m.records, 0),
      );
    return committed;
  } finally {
    await store.close();
  }
}

/** The records committed to the splits of the job in the store at `dir` that `which` picks (all of them by default). */
export async function committedRecords(dir: string, which: (split: number) => boolean = () => true): Promise<number> {
  let n = 0;
  for (const [split, records] of await committedBySplit(dir)) if (which(split)) n += records;
  return n;
}
