/**
 * Real `redis-server` processes for the tests, from PATH, on free loopback ports, each in a
 * temporary directory and without persistence: a single server, or a Cluster made with
 * `redis-cli --cluster create`. Stopped by PID (`stop()`, and at exit should a test file forget);
 * `kill()` and `restart()` take one node down and up again, for fault tests.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** The one line a test prints when redis-server is missing from `PATH`, or undefined when it is there. */
export function redisMissing(PATH = process.env.PATH ?? ''): string | undefined {
  for (const tool of ['redis-server', 'redis-cli']) {
    if (!PATH.split(path.delimiter).some((dir) => dir !== '' && fs.existsSync(path.join(dir, tool))))
      return `${tool} is not on PATH: install Redis to run the Redis tests (Debian/Ubuntu: apt-get install -y redis-server)`;
  }
  return undefined;
}

/** Throws the one-line instruction when redis-server is missing. */
export function requireRedis(): void {
  const missing = redisMissing();
  if (missing === undefined) return;
  const error = new Error(missing);
  error.stack = missing; // jest prints the stack: one line
  throw error;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** One redis-server process. */
export class RedisProcess {
  readonly port: number;
  readonly dir: string;
  readonly args: readonly string[];
  #child: ChildProcess | undefined;

  constructor(port: number, dir: string, args: readonly string[]) {
    this.port = port;
    this.dir = dir;
    this.args = args;
  }

  /** `redis://127.0.0.1:port`. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** The process id, while it runs. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Starts the server and waits until it answers. */
  async start(): Promise<void> {
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir, ...this.args],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    this.#child = child;
    running.add(child);
    child.once('exit', () => running.delete(child));
    await waitFor(() => answers(this.port), `redis-server on port ${this.port} to answer`);
  }

  /** Kills the process (SIGKILL by default) and waits for it to end. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const ended = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await ended;
    this.#child = undefined;
  }

  /** Starts it again on the same port and directory (a Cluster node keeps its identity, a single server comes back empty). */
  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }

  /** Runs redis-cli against this server; its output. */
  cli(...args: string[]): string {
    return execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(this.port), ...args], { encoding: 'utf8' });
  }

  /** Kills it and removes its directory. */
  async stop(): Promise<void> {
    await this.kill();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Starts one server; `args` are more redis-server options (`--requirepass`, `--maxmemory`…). */
export async function startRedis(...args: string[]): Promise<RedisProcess> {
  requireRedis();
  const [port] = await freePorts(1);
  const server = new RedisProcess(port!, fs.mkdtempSync(path.join(os.tmpdir(), 'partd-redis-')), [
    '--enable-debug-command',
    'local',
    ...args,
  ]);
  await server.start();
  return server;
}

/** A Redis Cluster of test processes. */
export class RedisCluster {
  constructor(
    readonly nodes: readonly RedisProcess[],
    readonly root: string,
  ) {}

  /** The startup nodes, as `{ cluster }` takes them. */
  get startNodes(): { host: string; port: number }[] {
    return this.nodes.map((n) => ({ host: '127.0.0.1', port: n.port }));
  }

  /** The nodes that are primaries now. */
  primaries(): RedisProcess[] {
    return this.nodes.filter((n) => n.pid !== undefined && /role:master/.test(n.cli('info', 'replication')));
  }

  /**
   * Waits until every running node says the cluster is ok and sees every slot served by a
   * running primary (after a kill: until the replica took over).
   */
  async waitOk(): Promise<void> {
    const up = () => this.nodes.filter((n) => n.pid !== undefined);
    await waitFor(() => {
      const ports = new Set(up().map((n) => String(n.port)));
      return up().every((n) => {
        if (!/cluster_state:ok/.test(n.cli('cluster', 'info'))) return false;
        const serving = n
          .cli('cluster', 'nodes')
          .split('\n')
          .map((line) => line.split(' '))
          .filter((f) => f.length > 8 && /master/.test(f[2]!)); // primaries holding slots
        return serving.every((f) => !/fail/.test(f[2]!) && ports.has(/:(\d+)@/.exec(f[1]!)?.[1] ?? ''));
      });
    }, 'every node of the cluster to see every slot served by a running primary');
  }

  /** Waits until every replica has every write its primary has (their replication offsets are equal). */
  async replicated(): Promise<void> {
    await waitFor(
      () =>
        this.primaries().every((p) => {
          const info = p.cli('info', 'replication');
          const offset = /master_repl_offset:(\d+)/.exec(info)?.[1];
          // online: synced (a replica waiting for its first sync also shows offset 0, and could never take over)
          const replicas = [...info.matchAll(/^slave\d+:.*state=(\w+),offset=(\d+)/gm)].map((m) => [m[1], m[2]]);
          return replicas.length > 0 && replicas.every(([state, o]) => state === 'online' && o === offset);
        }),
      'every replica to catch up with its primary',
    );
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

/**
 * Starts `primaries` × (1 + `replicas`) nodes and joins them into a Cluster with
 * `redis-cli --cluster create`. `nodeTimeout` (ms) is how long a node may be silent before
 * its replica takes over.
 */
export async function startCluster(options: { primaries?: number; replicas?: number; nodeTimeout?: number } = {}): Promise<RedisCluster> {
  requireRedis();
  const { primaries = 3, replicas = 1, nodeTimeout = 2000 } = options;
  const ports = await freePorts(primaries * (1 + replicas), true);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'partd-redis-cluster-'));
  const nodes = ports.map((port) => {
    const dir = path.join(root, String(port));
    fs.mkdirSync(dir);
    return new RedisProcess(port, dir, [
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      'nodes.conf',
      '--cluster-node-timeout',
      String(nodeTimeout),
    ]);
  });
  const cluster = new RedisCluster(nodes, root);
  try {
    await Promise.all(nodes.map((n) => n.start()));
    execFileSync(
      'redis-cli',
      ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', String(replicas), '--cluster-yes'],
      {
        stdio: 'ignore',
      },
    );
    await cluster.waitOk();
  } catch (e) {
    await cluster.stop();
    throw e;
  }
  return cluster;
}

/** Loopback ports nothing listens on; with `bus`, port + 10000 too (a Cluster node's bus). */
export async function freePorts(count: number, bus = false): Promise<number[]> {
  const out: number[] = [];
  while (out.length < count) {
    const port = 20000 + Math.floor(Math.random() * 35000);
    if (out.includes(port) || (bus && out.some((p) => Math.abs(p - port) === 10000))) continue;
    if ((await free(port)) && (!bus || (await free(port + 10000)))) out.push(port);
  }
  return out;
}

function free(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** True once something on the port answers a PING (an error reply too: a server asking for a password is up). */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setTimeout(500);
    socket.once('data', (d) => {
      socket.destroy();
      resolve(/^[+-]/.test(d.toString()) && !/LOADING/.test(d.toString()));
    });
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

async function waitFor(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
