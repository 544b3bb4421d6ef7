/**
 * `partd worker` processes for the distributed engine's tests: each a separate OS process (as a
 * separate machine would run it), started from the built CLI and ready once it says it listens;
 * stopped by PID (`stop()`, and at exit should a test file forget), killed, paused and resumed
 * for the fault tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'src', 'cli', 'main.js');
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** One `partd worker` process. */
export class WorkerProcess {
  #child: ChildProcess | undefined;
  #log = '';

  constructor(
    readonly args: string[],
    readonly env: Record<string, string> = {},
  ) {}

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** What it wrote on stderr so far. */
  get log(): string {
    return this.#log;
  }

  /** Starts it and waits until it listens on its queue. */
  async start(): Promise<void> {
    const child = spawn(process.execPath, [CLI, 'worker', ...this.args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '', ...this.env },
    });
    this.#child = child;
    running.add(child);
    child.once('exit', () => running.delete(child));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`partd worker did not start within 20 s: ${this.#log}`)), 20_000);
      child.stderr!.on('data', (d: Buffer) => {
        this.#log += d;
        if (/listening on queue/.test(this.#log)) (clearTimeout(timer), resolve());
      });
      child.once(
        'exit',
        (code, signal) => (clearTimeout(timer), reject(new Error(`partd worker exited (${code ?? signal}): ${this.#log}`))),
      );
    });
  }

  /** Sends `signal` (SIGKILL, SIGSTOP, SIGCONT…). */
  signal(signal: NodeJS.Signals): void {
    this.#child?.kill(signal);
  }

  /** Resolves when the process has exited (at once if it is not running). */
  exited(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => child.once('exit', () => resolve()));
  }

  /** Calls `fn` with the exit code when the process exits. */
  onExit(fn: (code: number | null) => void): void {
    this.#child?.once('exit', (code) => fn(code));
  }

  /** Kills it with SIGKILL and waits for its end. */
  async kill(): Promise<void> {
    this.signal('SIGCONT'); // a stopped process ends only once it runs
    this.signal('SIGKILL');
    await this.exited();
  }

  async stop(): Promise<void> {
    await this.kill();
  }
}

/** Starts `count` workers on the Redis at `url` (`extra`: more `partd worker` flags, e.g. `--lock-ms`). */
export async function startWorkers(
  count: number,
  url: string,
  extra: string[] = [],
  env?: Record<string, string>,
): Promise<WorkerProcess[]> {
  const workers = Array.from({ length: count }, () => new WorkerProcess(['--redis', url, ...extra], env));
  await Promise.all(workers.map((w) => w.start()));
  return workers;
}
