/**
 * The keys of temporary `Redis` stores still open when the process exits, removed then: on a
 * normal exit, after an uncaught exception, and on SIGINT/SIGTERM (signal-exit, as temp.ts does
 * for directories). Runs in any thread.
 *
 * An exit handler cannot wait for a reply, so it runs a child process synchronously
 * (cleanup-child.ts) that connects and removes the keys, within a few seconds. The server's
 * options (credentials included) go to it on stdin, never on its command line. A process killed
 * outright (SIGKILL) runs nothing: its keys' TTL is the backstop.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { onExit } from 'signal-exit';
import type { RedisServer } from './options.js';

/** What the child needs to remove one store's keys. */
export interface CleanupSpec {
  server: RedisServer;
  pattern: string;
}

const live = new Set<CleanupSpec>();
let hooked = false;

/** How long the exit waits for the child at most. */
const EXIT_TIMEOUT_MS = 5000;

function cleanupAll(): void {
  if (live.size === 0) return;
  const specs = [...live];
  live.clear();
  // Beside this module once built; from src/ (ts-jest) the built one, if there is one.
  let script = fileURLToPath(new URL('./cleanup-child.js', import.meta.url));
  if (!fs.existsSync(script)) script = script.replace(/([/\\])src([/\\]stores[/\\]redis[/\\])/, '$1dist$1src$2');
  let input: Buffer;
  try {
    input = v8.serialize(specs);
  } catch {
    return; // options that cannot cross (a TLS SecureContext…): the TTL expires the keys
  }
  spawnSync(process.execPath, [script], {
    input,
    timeout: EXIT_TIMEOUT_MS,
    stdio: ['pipe', 'ignore', 'ignore'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
}

/** Removes `spec`'s keys at exit unless the returned function is called first. */
export function removeAtExit(spec: CleanupSpec): () => void {
  if (!hooked) {
    hooked = true;
    onExit(cleanupAll);
  }
  const entry = { server: cloneable(spec.server) as RedisServer, pattern: spec.pattern };
  live.add(entry);
  return () => live.delete(entry);
}

/** The same options without functions (a retryStrategy…), which cannot go to another process. */
function cloneable(value: unknown): unknown {
  if (typeof value === 'function') return undefined;
  if (Array.isArray(value)) return value.map(cloneable);
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (typeof v !== 'function') out[k] = cloneable(v);
  return out;
}
