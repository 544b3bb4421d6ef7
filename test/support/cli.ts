/** The built CLI, spawned as a user runs it (test/cli.test.ts, test/join-cli.test.ts). */
import { spawn } from 'node:child_process';
import path from 'node:path';

/** The compiled CLI. */
export const cli = path.resolve('dist/src/cli/main.js');

/** What a run of the CLI did. */
export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI; `during` may act on the running child (write stdin, send a signal). */
export function partd(
  args: string[],
  opts: { input?: string; env?: NodeJS.ProcessEnv; during?: (child: ReturnType<typeof spawn>) => void } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], {
      env: { ...process.env, NODE_OPTIONS: '', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    if (opts.during) opts.during(child);
    else child.stdin.end(opts.input ?? '');
  });
}
