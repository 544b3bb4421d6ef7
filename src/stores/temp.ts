/**
 * Temporary directories for stores and jobs made without a path. They are removed by `close()`,
 * and — partd's orphaned-data gotcha — also when the process exits normally, dies of an
 * uncaught exception, or gets SIGINT/SIGTERM. A process killed outright (SIGKILL, OOM killer)
 * cannot clean up: each directory names its owner, and the next process to make one removes
 * those whose owner is gone.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { onExit } from 'signal-exit';

const PREFIX = 'partd-';
const OWNER = '.partd-owner';
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
  reapOrphans();
}

/** A process's start time in clock ticks since boot (Linux), so a reused pid is told apart; '' elsewhere. */
function startOf(pid: number | 'self'): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch (e) {
    if (!fs.existsSync('/proc/self/stat')) return '';
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : '';
  }
}

/** Where pids mean the same process: this host and pid namespace (containers may share a /tmp). */
function pidSpace(): string {
  let ns = '';
  try {
    ns = fs.readlinkSync('/proc/self/ns/pid');
  } catch {
    // no /proc: the host alone
  }
  return `${os.hostname()} ${ns}`;
}

interface Owner {
  space: string;
  pid: number;
  start: string;
}

function alive(owner: Owner): boolean {
  if (owner.start !== '') {
    const start = startOf(owner.pid);
    return start === undefined ? false : start === '' || start === owner.start;
  }
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Removes the temporary directories of processes of this pid space that are gone. */
function reapOrphans(): void {
  const space = pidSpace();
  let names: string[];
  try {
    names = fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith(PREFIX));
  } catch {
    return;
  }
  for (const name of names) {
    const dir = path.join(os.tmpdir(), name);
    let owner: Owner;
    try {
      owner = JSON.parse(fs.readFileSync(path.join(dir, OWNER), 'utf8')) as Owner;
    } catch {
      continue; // not ours, or its maker has not written the note yet
    }
    if (owner.space === space && owner.pid !== process.pid && !alive(owner)) fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Makes a fresh temporary directory that is removed at exit unless released earlier. */
export function makeTempDir(prefix: string): string {
  hook();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${PREFIX}${prefix}-`));
  const owner: Owner = { space: pidSpace(), pid: process.pid, start: startOf('self') ?? '' };
  fs.writeFileSync(path.join(dir, OWNER), JSON.stringify(owner));
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
