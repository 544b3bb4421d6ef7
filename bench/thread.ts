/**
 * Baselines in fresh worker threads, as the engine's workers run: a fresh heap, and the module
 * loaded in that thread. A call names a module's export and its arguments; the seconds count
 * from the threads' start to the last result, so thread start and module loading are in them,
 * as they are in the engine's.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { threadEnv } from '../src/shuffle/runtime/thread-env.js';

/** An export of a module to call in a fresh thread with `args`; it returns (or resolves to) a structured-clonable value. */
export interface ThreadCall {
  module: URL;
  export: string;
  args: unknown[];
}

const MARK = 'partd-bench-thread';

/** Runs each call in its own fresh thread, all at once; their results in order. */
export async function inFreshThreads<T>(calls: ThreadCall[]): Promise<T[]> {
  return Promise.all(
    calls.map(
      (call) =>
        new Promise<T>((resolve, reject) => {
          const w = new Worker(new URL(import.meta.url), {
            env: threadEnv(),
            workerData: { [MARK]: true, ...call, module: call.module.href },
          });
          let result: { value: T } | undefined;
          w.once('message', (value: T) => (result = { value }));
          w.once('error', reject);
          w.once('exit', (code) =>
            result ? resolve(result.value) : reject(new Error(`${call.export}: its thread exited (${code}) without a result`)),
          );
        }),
    ),
  );
}

// No top-level await: the called module may import this one, which must have finished evaluating
// by then. A failure is an unhandled rejection, which ends the thread with an 'error' event.
if (!isMainThread && (workerData as Record<string, unknown> | null)?.[MARK]) {
  const { module, export: name, args } = workerData as { module: string; export: string; args: unknown[] };
  void import(module).then(async (m: Record<string, (...a: unknown[]) => unknown>) => parentPort!.postMessage(await m[name]!(...args)));
}
