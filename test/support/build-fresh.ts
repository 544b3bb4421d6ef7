/**
 * jest globalSetup: the suite refuses to run against a stale build. Tests import src/ through
 * ts-jest, but worker threads load dist/workers/entry.cjs and the CLI and example tests run
 * dist/: after an edit without a build they would test old code beside new code. Every source
 * tsc compiles for them must have an output written after it (tsc rewrites every output on each
 * build, so an output older than its source means the source changed after the last build).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The folders of tsconfig.json whose outputs the tests run. */
const ROOTS = ['src', 'workers', 'examples', 'bench'];

function* sources(dir: string): Generator<string> {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* sources(full);
    else if (/\.c?ts$/.test(entry.name) && !/\.d\.c?ts$/.test(entry.name)) yield full;
  }
}

const mtime = (file: string): number | undefined => {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
};

/** The sources changed after their output was written (or never built), newest first. */
export function staleSources(): { dir: string; files: string[] }[] {
  const found: { dir: string; files: string[] }[] = [];
  for (const dir of ROOTS) {
    if (!fs.existsSync(path.join(root, dir))) continue;
    const stale: [string, number][] = [];
    for (const source of sources(path.join(root, dir))) {
      const rel = path.relative(root, source);
      const output = path.join(root, 'dist', rel.replace(/\.ts$/, '.js').replace(/\.cts$/, '.cjs'));
      const built = mtime(output);
      const changed = mtime(source) ?? 0;
      if (built === undefined || built < changed) stale.push([rel, changed]);
    }
    if (stale.length) found.push({ dir, files: stale.sort((a, b) => b[1] - a[1]).map(([rel]) => rel) });
  }
  return found;
}

/** The one line that says why the suite does not run, or undefined when the build is fresh. */
export function staleBuild(): string | undefined {
  if (!fs.existsSync(path.join(root, 'dist'))) return 'dist/ is missing (nothing is built): run `npm run build`';
  const stale = staleSources();
  const first = stale[0];
  if (!first) return undefined;
  const count = stale.reduce((n, s) => n + s.files.length, 0);
  const named = `${first.files[0]}${count > 1 ? ` and ${count - 1} more` : ''}`;
  return `dist/ is older than ${first.dir}/ (${named} changed after the last build): run \`npm run build\``;
}

export default function globalSetup(): void {
  const line = staleBuild();
  if (line === undefined) return;
  // One line, no stack: jest prints a thrown error's stack, so the message is the whole stack.
  const error = new Error(line);
  error.stack = line;
  throw error;
}
