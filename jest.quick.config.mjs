/**
 * `npm run test:quick`: the in-process suites, under a minute on two cores. Left to `npm test`:
 * the suites that run child processes by the dozen (the CLI, the examples, the bad-input
 * catalogue, processes appending to one store, job claims across processes, npm pack), big
 * inputs (exact answers, a 513 MiB Redis value), and the fault, crash, worker-failure, full-disk
 * and Redis-failure loops (servers killed and restarted, processes ending with temporary stores), and
 * the distributed engine's faults (worker processes killed and stopped, a Cluster failing over).
 */
import base from './jest.config.mjs';

const slow = [
  'faults',
  'join-faults',
  'join-cli',
  'sort-faults',
  'crash',
  'exact-answers',
  'cli',
  'sort-cli',
  'bad-inputs',
  'examples',
  'failures',
  'concurrency',
  'job-claim',
  'enospc',
  'package',
  'redis-failures',
  'redis-large',
  'cluster-faults',
];

/** @type {import('jest').Config} */
const config = {
  ...base,
  testPathIgnorePatterns: ['/node_modules/', ...slow.map((name) => `/test/${name}\\.test\\.ts$`)],
};

export default config;
