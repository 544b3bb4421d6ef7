/**
 * Temporary directories for stores made without a path. They are removed by `close()`,
 * and — partd's orphaned-data gotcha — also when the process exits normally, dies of an
 * uncaught exception, or gets SIGINT/SIGTERM.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const live = new Set<string>();
let hooked = false;

function removeAll(): void {
  for (const dir of live) fs.rmSync(dir, { recursive: true, force: true });
  live.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  removeAll();
  // Our handler replaced the default action; restore it and re-raise so the exit status is the usual one.
  process.removeListener(signal, onSignal);
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function hook(): void {
  if (hooked) return;
  hooked = true;
  // 'exit' also runs after an uncaught exception, so that case needs no handler of its own.
  process.on('exit', removeAll);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}

/** Makes a fresh temporary directory that is removed at exit unless released earlier. */
export function makeTempDir(prefix: string): string {
  hook();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `partd-${prefix}-`));
  live.add(dir);
  return dir;
}

/** Removes a temporary directory now. */
export function removeTempDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
  live.delete(dir);
}

/** The temporary directories that are still alive (for tests). */
export function liveTempDirs(): string[] {
  return [...live];
}
