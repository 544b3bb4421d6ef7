/** `partd worker --redis URL`: a process that runs distributed jobs' tasks (src/shuffle/cluster/worker.ts) until Ctrl-C or SIGTERM. */
import { startWorker } from '../shuffle/cluster/worker.js';
import { parsePositive, parseRedis } from './args.js';

/** Options of `worker`. */
export interface WorkerCommandOptions {
  redis: string;
  threads?: string;
  queue?: string;
  lockMs?: string;
}

/** Runs a worker until a signal: the first lets running tasks finish (none taken after it), a second exits at once. */
export async function workerCommand(o: WorkerCommandOptions): Promise<void> {
  const threads = o.threads === undefined ? undefined : parsePositive(o.threads, '--threads');
  const lockMs = o.lockMs === undefined ? undefined : parsePositive(o.lockMs, '--lock-ms');
  const worker = startWorker({ redis: parseRedis(o.redis), queue: o.queue, threads, lockMs });
  process.removeAllListeners('SIGINT'); // main.ts's exits at once; a worker finishes its tasks first
  const stopped = new Promise<void>((resolve) => {
    const stop = () => {
      process.stderr.write('partd worker: stopping: running tasks finish, no new ones are taken (again to exit at once)\n');
      process.once('SIGINT', () => process.exit(130));
      process.once('SIGTERM', () => process.exit(143));
      void worker.close().then(resolve, resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await worker.ready;
  process.stderr.write(
    `partd worker: ${worker.id} listening on queue ${o.queue ?? 'partd'} (${threads ?? 1} thread${(threads ?? 1) > 1 ? 's' : ''})\n`,
  );
  await stopped;
}
