import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { expect, it } from '@jest/globals';
import { peakRss } from '../src/shuffle/runtime/peak-rss.js';

// getrusage's maxRSS carries a parent's size into a child it execs on Linux; VmHWM does not.
it('a child of a large process is measured at its own peak, not its parent’s', async () => {
  const ballast = Buffer.alloc(400 * 2 ** 20, 1);
  expect(peakRss()).toBeGreaterThan(400 * 2 ** 20);
  const child = spawn(process.execPath, ['-e', "process.stdout.write('up'); setTimeout(() => {}, 10000)"]);
  try {
    await once(child.stdout, 'data');
    const peak = peakRss(child.pid!);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThan(200 * 2 ** 20);
  } finally {
    child.kill();
  }
  expect(ballast[ballast.length - 1]).toBe(1);
});

it('a process that is gone is measured as 0', () => {
  const child = spawnSync(process.execPath, ['-e', '0']);
  expect(peakRss(child.pid!)).toBe(0);
});
