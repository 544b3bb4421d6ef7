// The two inputs of test/crash.test.ts's join, made from an index range in the workers: W2's
// records (a note each, so a session commits several parts) and a dimension table on their
// `key` (duplicate keys, null keys, keys no record has). With PARTD_TEST_PAUSE_MS set, each
// is slowed (a lower bound on how long each side's scatter runs, whatever the machine, so a
// kill lands in the phase it aims at) and the right side writes "right" to stdout when a
// split of it starts: every commit after that line is the right side's.
import fs from 'node:fs';
import { w2Record } from '../../dist/bench/w2/records.js';

const pause = Number(process.env.PARTD_TEST_PAUSE_MS ?? 0);
const cell = new Int32Array(new SharedArrayBuffer(4));
const wait = () => Atomics.wait(cell, 0, 0, pause);

/** W2's record i with a 60-byte note; slowed by `pause` ms per 250 records. */
export function* facts(start, end) {
  const note = 'n'.repeat(60);
  for (let i = start; i < end; i++) {
    if (pause > 0 && i % 250 === 0) wait();
    yield { ...w2Record(i), note };
  }
}

/** Row i of the dimension table: 3,000 keys of W2's (1 in 33), some twice, every 101st key null; slowed by `pause` ms per 100 rows. */
export function* dims(start, end) {
  if (pause > 0) fs.writeSync(1, 'right\n'); // one write: whole between the main thread's lines
  const pad = 'd'.repeat(400);
  for (let i = start; i < end; i++) {
    if (pause > 0 && i % 100 === 0) wait();
    yield { key: i % 101 === 0 ? null : 'user' + (i % 3000) * 33, i, pad };
  }
}
