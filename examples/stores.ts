/**
 * Stores at a path, which outlive the process: Lmdb (transactional; threads and processes may
 * share it) and File (one file per key). Lmdb keeps values of 64 KiB and up in value files
 * beside its database, and deleting values gives their space back.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { File, Lmdb } from '../src/index.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'partd-example-'));
const bytesIn = (folder: string) => fs.readdirSync(folder).reduce((n, f) => n + fs.statSync(path.join(folder, f)).size, 0);

{
  // A new value file every 1 MiB (default 128 MiB), to show compaction with small data.
  await using db = new Lmdb(path.join(dir, 'lmdb'), { valueFileMax: 1 << 20 });
  for (let i = 0; i < 16; i++) await db.append({ [`blob${i}`]: new Uint8Array(256 << 10).fill(i) });
  const values = path.join(db.path, 'values');
  console.log('16 blobs of 256 KiB:', bytesIn(values), 'bytes in value files');
  // Keep one blob in four: files left less than half live are compacted.
  await db.delete(Array.from({ length: 16 }, (_, i) => `blob${i}`).filter((_, i) => i % 4 !== 3));
  console.log('4 blobs left:', bytesIn(values), 'bytes in value files');

  // Another instance (here read-only; it could be another process) sees every commit.
  await using reader = new Lmdb(db.path, { readOnly: true });
  const blob15 = await reader.get('blob15');
  console.log(`blob15: ${blob15.length} bytes of ${blob15[0]}`);
}

{
  await using files = new File(path.join(dir, 'file'));
  await files.append({ x: Buffer.from('Hello '), y: Buffer.from('abc') });
  await files.append({ x: Buffer.from('world!') });
  console.log(
    'File keys:',
    fs
      .readdirSync(files.path)
      .filter((f) => !f.startsWith('.'))
      .sort(),
    '; x =',
    Buffer.from(await files.get('x')).toString(),
  );
}
fs.rmSync(dir, { recursive: true });
