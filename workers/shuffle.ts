/**
 * The Piscina worker of the shuffle: `scatter` and `gather` tasks (see src/shuffle/).
 * Errors come back as data, so their class (BadRecordError) and message survive the thread hop.
 */
import { scatter as runScatter, type ScatterTask } from '../src/shuffle/scatter.js';
import { gather as runGather, type GatherTask } from '../src/shuffle/gather.js';
import { settle } from '../src/shuffle/outcome.js';

export const scatter = (task: ScatterTask) => settle(() => runScatter(task));
export const gather = (task: GatherTask) => settle(() => runGather(task));
