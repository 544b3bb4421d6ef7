/** The Piscina worker of the shuffle: `scatter` and `gather` tasks (see src/shuffle/). */
export { scatter } from '../src/shuffle/scatter.js';
export { gather } from '../src/shuffle/gather.js';
