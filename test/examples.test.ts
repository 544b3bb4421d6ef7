/** Every example runs and prints what its comments promise. */
import { expect, it } from '@jest/globals';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runNode } from './support/child.js';

const dist = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'examples');

it.each([
  ['quickstart', ['Hello world!', "[ '123456', 'Hello world!' ]", 'Int32Array(5) [ 1, 2, 3, 4, 5 ]']],
  ['layers', ["[ { user: 'ann', amount: 3 }, { user: 'dee', amount: 2 } ]", 'key tuple("eu", 2024)']],
  ['spill', ['k7 holds 100000 bytes']],
])('examples/%s', async (name, lines) => {
  const r = await runNode(path.join(dist, `${name}.js`), []);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  for (const line of lines) expect(r.stdout).toContain(line);
});
