/** The processes `bench -- cluster` runs against: a redis-server from PATH on a free loopback port, and `partd worker`s. */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');
const children = new Set<ChildProcess>();
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));

/** A free loopback port. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function start(cmd: string, args: string[]): ChildProcess {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** A redis-server without persistence; `info(section)` runs INFO on it. */
export async function startRedisServer(): Promise<{
  url: string;
  pid: number;
  info: (s: string) => Record<string, string>;
  stop: () => void;
}> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'partd-bench-redis-'));
  const child = start('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir]);
  const cli = (...args: string[]) => execFileSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' });
  for (let i = 0; ; i++) {
    try {
      if (cli('ping').trim() === 'PONG') break;
    } catch {
      if (i > 100) throw new Error('redis-server did not start (is it on PATH? Debian: apt-get install redis-server)');
    }
    await sleep(50);
  }
  const info = (section: string) =>
    Object.fromEntries(
      cli('info', section)
        .split('\r\n')
        .filter((l) => l.includes(':'))
        .map((l) => l.split(':') as [string, string]),
    );
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid!,
    info,
    stop: () => (child.kill('SIGKILL'), fs.rmSync(dir, { recursive: true, force: true })),
  };
}

/** `count` `partd worker` processes of one thread each on `queue`, once they listen. */
export async function startWorkers(count: number, url: string, queue: string): Promise<ChildProcess[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const child = start(process.execPath, [CLI, 'worker', '--redis', url, '--queue', queue, '--threads', '1']);
      let log = '';
      await new Promise<void>((resolve, reject) => {
        child.stderr!.on('data', (d: Buffer) => ((log += d), /listening/.test(log) && resolve()));
        child.once('exit', () => reject(new Error(`partd worker exited: ${log}`)));
      });
      return child;
    }),
  );
}

/** A process's peak RSS so far (VmHWM), in bytes. */
export function peakRssOf(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}
