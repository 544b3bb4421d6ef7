/** W4's files (shared/workloads.md): W2's first 5M records as NDJSON and as CSV, made once into data/. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { w2Record } from '../w2/records.js';

/** The git-ignored folder for generated data, at the project root. */
export const DATA_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'data');

/** Writes `file` from lines made by `line(i)` unless it is already complete (a `.done` marker beside it). */
async function ensure(file: string, header: string | undefined, n: number, line: (i: number) => string): Promise<string> {
  if (fs.existsSync(file + '.done')) return file;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const out = fs.createWriteStream(file + '.tmp');
  let chunk = header === undefined ? '' : header + '\n';
  for (let i = 0; i < n; i++) {
    chunk += line(i) + '\n';
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      chunk = '';
    }
  }
  out.end(chunk);
  await new Promise<void>((r) => out.once('finish', () => r()));
  fs.renameSync(file + '.tmp', file);
  fs.writeFileSync(file + '.done', String(n));
  return file;
}

/** data/w4.ndjson: `n` records, one JSON object a line. */
export const ensureNdjson = (n = 5_000_000) =>
  ensure(path.join(DATA_DIR, `w4-${n}.ndjson`), undefined, n, (i) => JSON.stringify(w2Record(i)));

/** data/w4.csv: the same records with header `id,key,amount,tag`. */
export const ensureCsv = (n = 5_000_000) =>
  ensure(path.join(DATA_DIR, `w4-${n}.csv`), 'id,key,amount,tag', n, (i) => {
    const r = w2Record(i);
    return `${r.id},${r.key},${r.amount},${r.tag}`;
  });
