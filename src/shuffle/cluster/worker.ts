/**
 * `partd worker`: a long-lived process that takes a distributed job's tasks from a BullMQ queue
 * on Redis and runs them on its own pool of worker threads (tasks.ts). BullMQ hands a task to
 * one worker at a time and, when that worker stops renewing its lock (killed, stopped, cut
 * off), to another: at-least-once; the commits make it exactly-once (scripts.ts).
 */
import type { Job } from 'bullmq';
import { bullmqModule } from '../../stores/redis/clients.js';
import { WorkerPool } from '../runtime/pool.js';
import { positiveInt } from '../checks.js';
import type { RedisServer } from '../../stores/redis/options.js';
import { checkCluster, Link, queuePrefix } from './link.js';
import type { ClusterTask } from './messages.js';
import { gatherTask, scatterTask, WORKER_ID, type TaskContext } from './tasks.js';

/** Options of `startWorker`. */
export interface WorkerOptions {
  redis: RedisServer;
  /** The queue to take tasks from (default `partd`). */
  queue?: string;
  /** Worker threads, and tasks run at once (default 1). */
  threads?: number;
  /** Milliseconds without a lock renewal after which a task is handed to another worker (default 30,000). */
  lockMs?: number;
  /** Heap limit of each worker thread in MiB. */
  workerHeapMB?: number;
}

/** A running worker: `close()` lets its running tasks finish, takes no more, and stops. */
export interface ClusterWorker {
  readonly id: string;
  /** Resolves once the worker is connected and listening. */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

/** The sorted set of live workers (member: id and threads; score: when its heartbeat expires), beside the queue's keys. */
export const workersKey = (queue: string) => `${queuePrefix(queue)}:partd-workers`;
const HEARTBEAT_MS = 1000;

/** Starts a worker process's loop (see the module comment). */
export function startWorker(options: WorkerOptions): ClusterWorker {
  const settings = checkCluster({ redis: options.redis, queue: options.queue }, 'worker');
  const threads = positiveInt(options.threads, 'threads', 1, 1, 256);
  const lockMs = positiveInt(options.lockMs, 'lockMs', 30_000, 500);
  const link = new Link(settings);
  let pool = new WorkerPool(threads, { heapMB: options.workerHeapMB });
  const ctx: TaskContext = {
    link,
    // a thread that failed outside any task aborts its pool for good: a long-lived worker takes a new one
    pool: () => {
      if (pool.aborted) {
        void pool.close();
        pool = new WorkerPool(threads, { heapMB: options.workerHeapMB });
      }
      return pool;
    },
  };
  const run = async (job: Job<ClusterTask>) => {
    const task = job.data;
    if (task.kind === 'scatter') await scatterTask(ctx, task);
    else await gatherTask(ctx, task);
  };
  const worker = new (bullmqModule().Worker)(settings.queue, run, {
    connection: link.bullConnection(),
    prefix: queuePrefix(settings.queue),
    concurrency: threads,
    lockDuration: lockMs,
    stalledInterval: lockMs,
    maxStalledCount: 1000, // a task is never given up on here: the coordinator decides
    removeOnComplete: { count: 0 },
    removeOnFail: { count: 0 },
  });
  worker.on('error', () => undefined); // connection trouble: BullMQ reconnects; the coordinator notices lost tasks
  const member = `${WORKER_ID} threads ${threads}`;
  const beat = () =>
    link.call('heartbeat', (c) => c.zadd(workersKey(settings.queue), String(Date.now() + 3 * HEARTBEAT_MS), member)).catch(() => undefined);
  const timer = setInterval(() => void beat(), HEARTBEAT_MS);
  const ready = (async () => {
    await worker.waitUntilReady();
    await beat();
  })();
  ready.catch(() => undefined);
  let closed: Promise<void> | undefined;
  return {
    id: WORKER_ID,
    ready,
    close: () =>
      (closed ??= (async () => {
        clearInterval(timer);
        try {
          await worker.close();
          await link.call('heartbeat', (c) => c.zrem(workersKey(settings.queue), member)).catch(() => undefined);
        } finally {
          await pool.close();
          await link.close();
        }
      })()),
  };
}

/** Live workers of `queue` and their threads (heartbeats not yet expired). */
export async function liveWorkers(link: Link, queue: string): Promise<{ workers: number; threads: number }> {
  const key = workersKey(queue);
  const members = await link.call('list workers', async (c) => {
    await c.zremrangebyscore(key, '-inf', String(Date.now()));
    return c.zrange(key, '0', '-1');
  });
  const threads = members.reduce((n, m) => n + Number(/threads (\d+)$/.exec(m)?.[1] ?? 1), 0);
  return { workers: members.length, threads };
}
