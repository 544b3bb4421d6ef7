/** The conformance suite on jest, and its adapters for layers whose values are not raw bytes. */
import { describe, expect, it } from '@jest/globals';
import type { Partd } from '../../src/index.js';
import { conformance as suite, type Adapter } from '../../src/extend.js';

/** The exported suite, on jest. */
export const conformance = <In, Out>(...args: [string, () => Partd<In, Out> | Promise<Partd<In, Out>>, Adapter<In, Out>]) =>
  suite({ describe, it, expect: expect as never }, ...args);

/** Msgpack and Structured: arrays of numbers (one per byte). */
export const arrays: Adapter<readonly unknown[], unknown[]> = {
  in: (b) => Array.from(b),
  out: (a) => Uint8Array.from(a as number[]),
  badValues: ['abc', 42, null, undefined, { length: 1 }, new Uint8Array(2)],
};
/** TypedArrays: a Uint8Array per value. */
export const typed: Adapter<Uint8Array, Uint8Array> = {
  in: (b) => new Uint8Array(b),
  out: (a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength),
  badValues: ['abc', [1, 2], 42, null, undefined, new DataView(new ArrayBuffer(2))],
};
