/**
 * The Piscina worker of the shuffle: `scatter` and `gather` tasks (see src/shuffle/).
 * Errors come back as data, so their class (BadRecordError) and message survive the thread hop.
 *
 * Each kind loads its module on its first task: scatter sessions never load lmdb-js. A worker
 * terminated (an abort) while lmdb-js's native code ran — loading, or opening a store — took
 * the whole process down ("napi_throw" in node-addon-api), and scatter is where jobs abort.
 */
import type { ScatterTask } from '../src/shuffle/scatter.js';
import type { GatherTask } from '../src/shuffle/gather.js';
import { settle } from '../src/shuffle/outcome.js';

export const scatter = (task: ScatterTask) => settle(async () => (await import('../src/shuffle/scatter.js')).scatter(task));
export const gather = (task: GatherTask) => settle(async () => (await import('../src/shuffle/gather.js')).gather(task));
