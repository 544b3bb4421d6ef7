/**
 * The file Piscina loads in each worker thread. CommonJS on purpose: Piscina require()s its
 * worker file first, and Node 20's require() of an ES module crashed the process (a V8 fatal
 * error) under jest's --experimental-vm-modules. This entry imports the ES module instead.
 */
import type { ScatterTask } from '../src/shuffle/protocol.js';
import type { GatherTask, SampleTask } from '../src/shuffle/protocol.js';

const tasks = import('./shuffle.js');

export async function scatter(task: ScatterTask): Promise<unknown> {
  return (await tasks).scatter(task);
}

export async function gather(task: GatherTask): Promise<unknown> {
  return (await tasks).gather(task);
}

export async function sample(task: SampleTask): Promise<unknown> {
  return (await tasks).sample(task);
}
