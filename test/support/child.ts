/** Runs a fixture script as a child process. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The path of a file in test/fixtures. */
export const fixture = (name: string) => path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', name);

/** Children still running: a test that timed out leaves them, and they would load the next ones. */
const running = new Set<ReturnType<typeof spawn>>();

/** Kills (SIGKILL) every child `runNode` started that still runs. */
export function killChildren(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

/** Result of a finished child. */
export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Spawns `node script ...args`; `onLine` sees each stdout line as it arrives; `input` is written to its stdin; `env` is added to the environment. */
export function runNode(
  script: string,
  args: string[],
  onLine?: (line: string, child: ReturnType<typeof spawn>) => void,
  input?: string,
  env: Record<string, string> = {},
): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '', ...env },
    });
    running.add(child);
    if (input !== undefined) child.stdin!.end(input);
    let stdout = '';
    let stderr = '';
    let partial = '';
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d;
      partial += d;
      let nl: number;
      while ((nl = partial.indexOf('\n')) >= 0) {
        onLine?.(partial.slice(0, nl), child);
        partial = partial.slice(nl + 1);
      }
    });
    child.stderr!.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      running.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
