/**
 * ioredis and BullMQ, loaded on first use: they are most of the package's import time (hundreds
 * of milliseconds, paid by every `partd groupby` of a file), and a local job never needs them.
 * Both are CommonJS, so `require` loads them synchronously where a constructor needs them.
 */
import { createRequire } from 'node:module';
import type * as IORedisModule from 'ioredis';
import type * as BullMQModule from 'bullmq';

const require = createRequire(import.meta.url);
let ioredis: typeof IORedisModule | undefined;
let bullmq: typeof BullMQModule | undefined;

/** The ioredis module. */
export const ioredisModule = (): typeof IORedisModule => (ioredis ??= require('ioredis') as typeof IORedisModule);

/** The BullMQ module. */
export const bullmqModule = (): typeof BullMQModule => (bullmq ??= require('bullmq') as typeof BullMQModule);
