/**
 * User code crosses threads as modules: `{ module, export }`, where `module` is a path
 * (relative to the working directory) or a URL, as Piscina takes `filename`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { threadEnv } from './thread-env.js';

/** A function exported by a module. */
export interface ModuleRef {
  /** A file path (absolute or relative to the working directory) or a `file:` URL. */
  module: string | URL;
  /** The export's name (default `'default'`). */
  export?: string;
}

/** A ModuleRef with an absolute URL, ready to send to a worker. */
export interface ResolvedRef {
  url: string;
  export: string;
}

/** Checks that the module loads and exports a function, naming `arg` in errors; before any work. */
export async function resolveRef(ref: unknown, arg: string): Promise<ResolvedRef> {
  if (ref === null || typeof ref !== 'object' || !('module' in ref)) throw new TypeError(`${arg}: expected { module, export }`);
  const { module, export: name = 'default' } = ref as ModuleRef;
  let url: string;
  if (module instanceof URL || (typeof module === 'string' && /^[a-z]+:\/\//i.test(module))) url = String(module);
  else if (typeof module === 'string') {
    const file = path.resolve(module);
    if (!fs.existsSync(file)) throw new Error(`${arg}: module ${JSON.stringify(module)} does not exist (${file})`);
    url = pathToFileURL(file).href;
  } else throw new TypeError(`${arg}.module: expected a path or URL`);
  let kinds: Record<string, string>;
  try {
    kinds = await exportKinds(url);
  } catch (e) {
    throw new Error(`${arg}: module ${JSON.stringify(String(module))} does not load: ${(e as Error).message}`, { cause: e });
  }
  if (kinds[name] === undefined) throw new Error(`${arg}: module ${JSON.stringify(String(module))} has no export ${JSON.stringify(name)}`);
  if (kinds[name] !== 'function' && kinds[name] !== 'object') {
    throw new TypeError(
      `${arg}: export ${JSON.stringify(name)} of module ${JSON.stringify(String(module))} is a ${kinds[name]}, not a function or an object`,
    );
  }
  return { url, export: name };
}

/**
 * `typeof` of each property of a module's exports (`null` as 'null'), or of one export's
 * properties with `member` (none when it is not an object). Self-contained: its source also
 * runs in a fresh thread.
 */
function kindsOf(mod: Record<string, unknown>, member?: string): Record<string, string> {
  const of = (member === undefined ? mod : mod[member]) as Record<string, unknown> | null;
  if (of === null || typeof of !== 'object') return {};
  const out: Record<string, string> = {};
  // own and inherited names: a reducer may be a class instance, with its methods on the prototype
  for (let o: object | null = of; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const k of Object.getOwnPropertyNames(o)) out[k] ??= of[k] === null ? 'null' : typeof of[k];
  }
  return out;
}

/** `kindsOf` the module at `url`. */
async function exportKinds(url: string, member?: string): Promise<Record<string, string>> {
  if (!isEntry(url)) return kindsOf((await import(url)) as Record<string, unknown>, member);
  // The program's own entry module (`module: import.meta.url`, as with Piscina) is still running
  // when it calls us: importing it here would wait for itself forever. A fresh thread imports it.
  const code = `const { parentPort } = require('node:worker_threads');
import(${JSON.stringify(url)}).then((m) => parentPort.postMessage((${kindsOf.toString()})(m, ${JSON.stringify(member)})));`;
  return new Promise((resolve, reject) => {
    const worker = new Worker(code, { eval: true, env: threadEnv() });
    worker.once('message', (m: Record<string, string>) => void worker.terminate().then(() => resolve(m)));
    worker.once('error', reject);
  });
}

/** `typeof` of each property of a resolved export that is an object (a custom reducer's methods), checked as `resolveRef` checks. */
export function memberKinds(ref: ResolvedRef): Promise<Record<string, string>> {
  return exportKinds(ref.url, ref.export);
}

const cache = new Map<string, unknown>();

/** Loads a resolved export (in a worker), once per thread. */
export async function loadRef<T>(ref: ResolvedRef): Promise<T> {
  const id = `${ref.url}#${ref.export}`;
  if (!cache.has(id)) cache.set(id, ((await import(ref.url)) as Record<string, unknown>)[ref.export]);
  return cache.get(id) as T;
}

/** Whether `url` is the program's entry module (compared by real path: Node runs the main module from its real path). */
function isEntry(url: string): boolean {
  const real = (file: string) => {
    try {
      return fs.realpathSync(file);
    } catch {
      return path.resolve(file);
    }
  };
  if (!process.argv[1] || !url.startsWith('file:')) return false;
  return real(fileURLToPath(url)) === real(process.argv[1]);
}
