/**
 * The Piscina worker of the shuffle: `scatter` and `gather` tasks (see src/shuffle/).
 * Outcomes come back serialised (runtime/outcome.ts), so errors keep their class (BadRecordError),
 * code and message across the thread hop, and a result that cannot cross threads is an
 * error naming it; the bytes move to the coordinator, not copied.
 *
 * Each kind loads its module on its first task: scatter sessions and a sort's samples never load lmdb-js. A worker
 * terminated (an abort) while lmdb-js's native code ran — loading, or opening a store — took
 * the whole process down ("napi_throw" in node-addon-api), and scatter is where jobs abort.
 */
import { move } from 'piscina';
import type { ScatterTask } from '../src/shuffle/protocol.js';
import type { GatherTask, SampleTask } from '../src/shuffle/protocol.js';
import { settle } from '../src/shuffle/runtime/outcome.js';

// loaded as the thread starts, while the job is still planned (it loads no lmdb-js)
const sessions = import('../src/shuffle/scatter/session.js');

export const scatter = async (task: ScatterTask): Promise<unknown> => move(await settle(async () => (await sessions).scatter(task)));

export async function gather(task: GatherTask): Promise<unknown> {
  let mod: typeof import('../src/shuffle/gather/task.js') | undefined;
  return move(
    await settle(
      async () => (mod = await import('../src/shuffle/gather/task.js')).gather(task),
      (results) => mod!.unsendable(task, results),
    ),
  );
}

/** A sort's sample of one split (src/shuffle/sort/sample.ts): reads the input only, like a scatter session. */
export const sample = async (task: SampleTask): Promise<unknown> =>
  move(await settle(async () => (await import('../src/shuffle/sort/sample.js')).sample(task)));
