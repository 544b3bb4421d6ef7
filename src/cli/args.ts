/** Parsing and checking of command-line values; a bad value is a UsageError naming its option. */
import { UsageError } from '../errors.js';
import type { RedisServer } from '../stores/redis/options.js';

/** `256MiB`, `1g`, `100MB`, `65536` → bytes. */
export function parseSize(text: string, option: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)$/i.exec(text.trim());
  if (!m) throw new UsageError(`${option}: expected a size like 256MiB, got ${JSON.stringify(text)}`);
  const unit = m[2]!.toLowerCase();
  const binary = m[3]!.toLowerCase().startsWith('i') || m[3] === '';
  const base = binary ? 1024 : 1000;
  const bytes = Number(m[1]) * base ** ' kmgt'.indexOf(unit || ' ');
  if (!Number.isFinite(bytes) || bytes < 1) throw new UsageError(`${option}: expected a positive size, got ${JSON.stringify(text)}`);
  return Math.floor(bytes);
}

/** A positive integer option. */
export function parsePositive(text: string, option: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < 1)
    throw new UsageError(`${option}: expected a positive integer, got ${JSON.stringify(text)}`);
  return n;
}

/** Input formats the CLI reads. */
export type Format = 'ndjson' | 'csv';

/** The format of the inputs: `--format`, else every file's extension (which must agree). */
export function inputFormat(files: string[], format: string | undefined): Format {
  if (format !== undefined) {
    if (format !== 'ndjson' && format !== 'csv') throw new UsageError(`--format: expected ndjson or csv, got ${JSON.stringify(format)}`);
    return format;
  }
  const formats = new Set(
    files.map((f) => {
      if (f === '-') throw new UsageError('--format: reading stdin (-) needs --format ndjson or --format csv');
      if (/\.(ndjson|jsonl)$/i.test(f)) return 'ndjson';
      if (/\.csv$/i.test(f)) return 'csv';
      throw new UsageError(
        `--format: cannot tell the format of ${JSON.stringify(f)} from its extension (.ndjson, .jsonl, .csv); give --format`,
      );
    }),
  );
  if (formats.size > 1) throw new UsageError('FILE: all inputs must have one format (NDJSON or CSV)');
  return [...formats][0] as Format;
}

/** Declared column types (docs/types.md), the library's `types` option. */
export type ColumnTypes = Record<string, 'string' | 'number'>;

/** `--types amount:number,id:string`, repeatable: every value's pairs, merged; a field declared twice must agree. */
export function parseTypes(values: string[]): ColumnTypes | undefined {
  if (values.length === 0) return undefined;
  const types: ColumnTypes = Object.create(null) as ColumnTypes; // a field may be named __proto__
  for (const value of values) {
    for (const pair of value.split(',')) {
      // The last colon: a field name may hold one (`a:b:number`), a type never does.
      const at = pair.lastIndexOf(':');
      const field = pair.slice(0, at).trim();
      const type = pair.slice(at + 1).trim();
      if (at < 0 || field === '')
        throw new UsageError(`--types: expected FIELD:string or FIELD:number (comma-separated), got ${JSON.stringify(pair)}`);
      if (type !== 'string' && type !== 'number')
        throw new UsageError(`--types: a type is string or number, got ${JSON.stringify(type)} for ${JSON.stringify(field)}`);
      if (Object.hasOwn(types, field) && types[field] !== type)
        throw new UsageError(`--types: ${JSON.stringify(field)} is declared both ${types[field]} and ${type}`);
      types[field] = type;
    }
  }
  return { ...types };
}

/**
 * `--redis`: a `redis://` or `rediss://` URL of one server, or `redis-cluster://[user:password@]host:port,host:port…`
 * for a Redis Cluster (any of its nodes; the credentials go to every node).
 */
export function parseRedis(text: string, option = '--redis'): RedisServer {
  const m = /^redis-cluster(s?):\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/]+)\/?$/.exec(text);
  if (!m) {
    if (!/^rediss?:\/\//.test(text))
      throw new UsageError(
        `${option}: expected redis://host:port, rediss://host:port or redis-cluster://host:port,host:port, got ${JSON.stringify(text)}`,
      );
    return text;
  }
  const [, tls, username, password, hosts] = m;
  const cluster = hosts!.split(',').map((node) => {
    const [host, port] = node.split(':');
    if (!host || !/^\d+$/.test(port ?? ''))
      throw new UsageError(`${option}: expected host:port for each Cluster node, got ${JSON.stringify(node)}`);
    return { host, port: Number(port) };
  });
  const redisOptions = {
    ...(username && { username: decodeURIComponent(username) }),
    ...(password !== undefined && { password: decodeURIComponent(password) }),
    ...(tls && { tls: {} }),
  };
  return { cluster, redisOptions };
}
