/**
 * Temporary directories for stores made without a path. They are removed by `close()`,
 * and — partd's orphaned-data gotcha — also when the process exits normally, dies of an
 * uncaught exception, or gets SIGINT/SIGTERM.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { onExit } from 'signal-exit';

const live = new Set<string>();
let hooked = false;

function removeAll(): void {
  for (const dir of live) fs.rmSync(dir, { recursive: true, force: true });
  live.clear();
}

function hook(): void {
  if (hooked) return;
  hooked = true;
  // signal-exit runs this on a normal exit, after an uncaught exception, and on SIGINT/SIGTERM
  // (then re-raising the signal), and cooperates with other libraries' handlers (proper-lockfile's).
  onExit(removeAll);
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
