/** The two call queues: Mutex (always queued) and InOrder (at once when nothing is running). */
import { expect, it } from '@jest/globals';
import { InOrder, Mutex } from '../src/mutex.js';

const tick = () => new Promise((r) => setImmediate(r));

it('InOrder runs a call at once when nothing is running, and later calls after a waiting one, in order', async () => {
  const q = new InOrder();
  const log: string[] = [];
  void q.run(() => log.push('a'));
  expect(log).toEqual(['a']); // synchronous: ran before run() returned
  let release!: () => void;
  const slow = q.run(() => new Promise<void>((r) => (release = () => (log.push('slow'), r()))));
  const after = q.run(() => log.push('b'));
  const failing = expect(
    q.run(() => {
      throw new Error('no');
    }),
  ).rejects.toThrow('no'); // observed now: it rejects before the test gets to await it
  const last = q.run(() => log.push('c'));
  await tick();
  expect(log).toEqual(['a']); // held back by the call that waits
  release();
  await slow;
  await after;
  await failing;
  await last; // a failed call does not stop the ones after it
  expect(log).toEqual(['a', 'slow', 'b', 'c']);
  void q.run(() => log.push('d'));
  await tick();
  void q.run(() => log.push('e'));
  expect(log.at(-1)).toBe('e'); // idle again: at once
});

it('Mutex runs calls one at a time, in call order, a failure not stopping the next', async () => {
  const m = new Mutex();
  const log: number[] = [];
  const calls = [1, 2, 3].map((n) =>
    m.run(async () => {
      await tick();
      if (n === 2) throw new Error('two');
      log.push(n);
    }),
  );
  const failed = expect(calls[1]).rejects.toThrow('two');
  await Promise.all([calls[0], calls[2], failed]);
  expect(log).toEqual([1, 3]);
});
