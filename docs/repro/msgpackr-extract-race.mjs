// The msgpackr-extract race behind a wrong groupBy answer (docs/architecture.md, "Threads"):
// one thread decodes the same bytes again and again while new threads load msgpackr, whose
// native addon zeroes and refills a token table shared by every thread as it loads.
//   node docs/repro/msgpackr-extract-race.mjs [seconds] [--fixed]
// --fixed starts the loading threads as partd starts its workers (native extraction off).
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

if (isMainThread) {
  const seconds = Number(process.argv[2] ?? 60);
  const fixed = process.argv.includes('--fixed');
  const env = fixed ? { ...process.env, MSGPACKR_NATIVE_ACCELERATION_DISABLED: 'true' } : process.env;
  const decoder = new Worker(new URL(import.meta.url), { workerData: 'decode' });
  const done = new Promise((resolve) => decoder.on('message', resolve));
  let started = 0;
  for (const until = Date.now() + seconds * 1000; Date.now() < until; started += 8) {
    const load = () => new Promise((resolve) => new Worker(new URL(import.meta.url), { workerData: 'load', env }).on('exit', resolve));
    await Promise.all(Array.from({ length: 8 }, load));
  }
  decoder.postMessage('stop');
  console.log({ threadsStarted: started, ...(await done) });
} else if (workerData === 'load') {
  await import('msgpackr');
} else {
  const { Packr, isNativeAccelerationEnabled } = await import('msgpackr');
  const packr = new Packr({ useRecords: true, mapsAsObjects: true });
  const tags = ['alpha', 'beta', 'gamma', 'delta', 'eps', 'zeta', 'eta', 'theta'];
  // floats whose bytes a misread token table takes for string headers
  const block = [[], [], []];
  for (let i = 0; i < 5000; i++)
    (block[0].push('user' + i), block[1].push([Math.sin(i) * 1e6, tags[i % 8]]), block[2].push([2 ** 32 + i, i]));
  const bytes = packr.pack(block);
  const want = JSON.stringify(block);
  let stop = false;
  let decodes = 0;
  let wrong = 0;
  parentPort.on('message', () => (stop = true));
  while (!stop) {
    for (let k = 0; k < 20; k++, decodes++) if (JSON.stringify(packr.unpack(bytes)) !== want) wrong++;
    await new Promise((resolve) => setImmediate(resolve));
  }
  parentPort.postMessage({ native: isNativeAccelerationEnabled, decodes, wrong });
}
