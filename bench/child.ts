/**
 * A child process measured from outside: its wall time and its peak RSS (the whole process, all
 * threads: Linux's VmHWM, the resident high-water mark, polled from /proc while it runs — the
 * mark only rises, so the last reading before the exit is the peak, give or take the last 50 ms).
 */
import { spawn } from 'node:child_process';
import { peakRss } from '../src/shuffle/runtime/peak-rss.js';

/** What a child did: its exit, its output, its wall time and its peak RSS in bytes (0 where /proc is missing). */
export interface ChildRun {
  status: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
  peakRss: number;
}

/** Runs `node args…` and measures it; rejects when it fails (with its stderr). */
export async function runNode(args: string[]): Promise<ChildRun> {
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let peak = 0;
  const poll = setInterval(() => (peak = Math.max(peak, peakRss(child.pid!))), 50);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  // The exit ('exit' comes before the pipes close; by then /proc of the child is a zombie's, without VmHWM).
  child.once('exit', () => clearInterval(poll));
  const status = await new Promise<number | null>((resolve, reject) => child.once('error', reject).once('close', resolve));
  clearInterval(poll);
  const run = {
    status,
    stdout: Buffer.concat(out).toString(),
    stderr: Buffer.concat(err).toString(),
    seconds: (performance.now() - t0) / 1000,
    peakRss: peak,
  };
  if (status !== 0) throw new Error(`node ${args.join(' ')} exited with ${status}: ${run.stderr.slice(-2000)}`);
  return run;
}
