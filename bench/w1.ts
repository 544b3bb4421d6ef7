/** W1 of shared/workloads.md: K keys, V-byte values, R rounds of one append holding all keys. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Partd } from '../src/index.js';
import type { Row } from './report.js';

/** The shape of a W1 run. */
export interface W1Shape {
  keys: number;
  valueBytes: number;
  rounds: number;
}
export const W1: W1Shape = { keys: 1000, valueBytes: 100, rounds: 2000 };
export const W1_LARGE: W1Shape = { keys: 100, valueBytes: 100_000, rounds: 200 };

/** Runs W1 on a fresh store and checks every key's bytes. */
export async function runW1(name: string, make: () => Partd, shape: W1Shape): Promise<Row> {
  const { keys: K, valueBytes: V, rounds: R } = shape;
  const data: Record<string, Uint8Array> = {};
  for (let k = 0; k < K; k++) data[`k${k}`] = new Uint8Array(V).fill(k % 251);
  const store = make();
  try {
    const t0 = performance.now();
    for (let r = 0; r < R; r++) await store.append(data);
    const appendS = (performance.now() - t0) / 1000;
    const t1 = performance.now();
    const values = await store.get(Object.keys(data));
    const getS = (performance.now() - t1) / 1000;
    const ok = values.every((v, k) => v.length === R * V && v[0] === k % 251 && v[v.length - 1] === k % 251);
    return row(name, shape, appendS, getS, ok);
  } finally {
    await store.drop();
    await store.close();
  }
}

function row(name: string, { keys: K, valueBytes: V, rounds: R }: W1Shape, appendS: number, getS: number, ok: boolean): Row {
  return { name, append_s: appendS, appends_per_s: Math.round((K * R) / appendS), MB_per_s: (K * R * V) / 1e6 / appendS, get_s: getS, ok };
}

/** W1 on Python partd (Debian's python3-partd) in this run, or null when it is not installed. */
export function runPythonPartd(kind: 'File' | 'Buffer', shape: W1Shape): Row | null {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'partd_w1.py');
  try {
    const out = execFileSync('/usr/bin/python3', [script, kind, String(shape.keys), String(shape.valueBytes), String(shape.rounds)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const r = JSON.parse(out) as { append_s: number; get_s: number; ok: boolean };
    return row(`python partd ${kind === 'File' ? 'File' : 'Buffer(Dict, File, 100 MB)'}`, shape, r.append_s, r.get_s, r.ok);
  } catch {
    return null;
  }
}

/**
 * The disk's durable write rate, the ceiling of a store that syncs each append call: one call's
 * bytes (K·V) written to one file in 1 MiB writes, then fdatasync, R times.
 */
export function runDiskCeiling(shape: W1Shape): Row {
  const call = shape.keys * shape.valueBytes;
  const piece = Buffer.alloc(1 << 20, 7);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'partd-disk-'));
  const fd = fs.openSync(path.join(dir, 'data'), 'w');
  try {
    const t0 = performance.now();
    for (let r = 0; r < shape.rounds; r++) {
      for (let done = 0; done < call;) done += fs.writeSync(fd, piece, 0, Math.min(piece.length, call - done));
      fs.fdatasyncSync(fd);
    }
    return row(
      "disk: each call's bytes written + fdatasync",
      shape,
      (performance.now() - t0) / 1000,
      0,
      fs.fstatSync(fd).size === call * shape.rounds,
    );
  } finally {
    fs.closeSync(fd);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
