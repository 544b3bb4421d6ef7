/**
 * A row in a process of its own: `node dist/bench/isolated.js MODULE EXPORT ARGS` calls the
 * export with the JSON array ARGS, times the call (not the process start or the loading of the
 * harness) and prints its outcome. Each row then starts from a fresh process — no heap, arena
 * or cache left by the rows before it — and its peak RSS is that process's, all threads.
 */
import { pathToFileURL } from 'node:url';
import { peakRss } from '../src/shuffle/runtime/peak-rss.js';
import { runNode } from './child.js';
import type { Outcome } from './rounds.js';

const SELF = new URL(import.meta.url);

/** A row's `run`: `module`'s `name`(…args), an async function resolving to an Outcome, called in a fresh process. */
export function isolated(module: URL, name: string, ...args: unknown[]): () => Promise<Outcome> {
  return async () => {
    const run = await runNode([SELF.pathname, module.href, name, JSON.stringify(args)]);
    const o = JSON.parse(run.stdout) as Outcome & { maxRss: number };
    return { checksum: o.checksum, phases: o.phases, seconds: o.seconds, peakRss: Math.max(run.peakRss, o.maxRss, o.peakRss ?? 0) };
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [module, name, args] = process.argv.slice(2) as [string, string, string];
  const fn = ((await import(module)) as Record<string, (...a: unknown[]) => Promise<Outcome>>)[name]!;
  const t0 = performance.now();
  const outcome = await fn(...(JSON.parse(args) as unknown[]));
  const seconds = outcome.seconds ?? (performance.now() - t0) / 1000;
  process.stdout.write(JSON.stringify({ ...outcome, seconds, maxRss: peakRss() }));
}
