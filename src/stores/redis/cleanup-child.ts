/**
 * The process exit-cleanup.ts runs at exit: reads the stores' servers and key patterns from
 * stdin (v8-serialized), removes those keys, and exits. Runs as its own process, started
 * synchronously by an exiting one (which gives it a few seconds).
 */
import v8 from 'node:v8';
import { Connection } from './connection.js';
import type { CleanupSpec } from './exit-cleanup.js';
import { removeKeys } from './scan.js';

const chunks: Buffer[] = [];
for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
const specs = v8.deserialize(Buffer.concat(chunks)) as CleanupSpec[];
await Promise.allSettled(
  specs.map(async ({ server, pattern }) => {
    const conn = new Connection(server);
    try {
      await removeKeys(conn, pattern);
    } finally {
      await conn.close();
    }
  }),
);
process.exit(0);
