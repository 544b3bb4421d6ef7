/**
 * The `Redis` store's failures, each on a server started for it: unreachable, a password
 * (wrong, missing, an ACL user without permission), maxmemory, a key of another type, a server
 * killed mid-call; credentials in no message; temporary stores removed at close, at exit and,
 * for a process killed outright, by their TTL.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { Redis as IORedis } from 'ioredis';
import {
  Redis,
  RedisAuthError,
  RedisConnectionLostError,
  RedisOutOfMemoryError,
  RedisUnreachableError,
  RedisWrongTypeError,
  PartdError,
} from '../src/index.js';
import { fixture, runNode } from './support/child.js';
import { freePorts, redisMissing, startRedis, type RedisProcess } from './support/redis-server.js';

const PASSWORD = 'pa55-Secret-w0rd';
let plain: RedisProcess;
let locked: RedisProcess;
beforeAll(async () => {
  [plain, locked] = await Promise.all([startRedis(), startRedis('--requirepass', PASSWORD)]);
}, 30_000);
afterAll(async () => {
  await Promise.all([plain?.stop(), locked?.stop()]);
});

const b = (s: string) => Buffer.from(s);
const lockedUrl = (password = PASSWORD, user = '') => `redis://${user}:${password}@127.0.0.1:${locked.port}`;

/** Everything an error shows, to look for a secret in. */
const shown = (e: unknown) =>
  [String(e), (e as Error).stack, inspect(e, { depth: 5 }), JSON.stringify(e), inspect((e as Error).cause)].join('\n');

/** The error a promise rejects with. */
async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

/** The keys of the server matching `partd:<name>:*`. */
async function keysOf(server: string, name: string): Promise<string[]> {
  const raw = new IORedis(server);
  try {
    return (await raw.keys(`partd:${name}:*`)).sort();
  } finally {
    raw.disconnect();
  }
}

describe('named errors', () => {
  it('an unreachable server: RedisUnreachableError naming it, without the password', async () => {
    const down = await startRedis();
    await down.stop(); // a port nothing listens on now
    const store = new Redis(`redis://:${PASSWORD}@127.0.0.1:${down.port}`, { name: 'x' });
    try {
      const e = await failure(store.append({ x: b('1') }));
      expect(e).toBeInstanceOf(RedisUnreachableError);
      expect((e as PartdError).code).toBe('ERR_REDIS_UNREACHABLE');
      expect(e.message).toBe(
        `append: Redis at redis://127.0.0.1:${down.port} is unreachable (connect ECONNREFUSED 127.0.0.1:${down.port}); nothing of the call was sent`,
      );
      expect(shown(e)).not.toContain(PASSWORD);
    } finally {
      await store.close();
    }
  });

  it('an unreachable Cluster: RedisUnreachableError', async () => {
    const down = await startRedis();
    await down.stop();
    const store = new Redis({ cluster: [{ host: '127.0.0.1', port: down.port }], redisOptions: { password: PASSWORD } }, { name: 'x' });
    try {
      const e = await failure(store.get('x'));
      expect(e).toBeInstanceOf(RedisUnreachableError);
      expect(e.message).toMatch(new RegExp(`^get: Redis at redis cluster 127\\.0\\.0\\.1:${down.port} is unreachable`));
      expect(shown(e)).not.toContain(PASSWORD);
    } finally {
      await store.close();
    }
  });

  it('a password: the right one works; a wrong one, none, or a wrong user is RedisAuthError, which never shows it', async () => {
    const good = new Redis(lockedUrl(), { name: 'auth' });
    await good.append({ k: b('v') });
    expect(String(await good.get('k'))).toBe('v');
    for (const [store, expected] of [
      [
        new Redis(lockedUrl('not-' + PASSWORD), { name: 'auth' }),
        /refused the credentials: WRONGPASS invalid username-password pair or user is disabled/,
      ],
      [
        new Redis(`redis://127.0.0.1:${locked.port}`, { name: 'auth' }),
        /refused the credentials: NOAUTH HELLO must be called with the client already authenticated/,
      ],
      [new Redis(lockedUrl(PASSWORD, 'nobody'), { name: 'auth' }), /refused the credentials: WRONGPASS/],
      [
        new Redis({ port: locked.port, host: '127.0.0.1', password: PASSWORD + 'x' }, { name: 'auth' }),
        /refused the credentials: WRONGPASS/,
      ],
    ] as const) {
      const e = await failure(store.get('k'));
      expect(e).toBeInstanceOf(RedisAuthError);
      expect((e as PartdError).code).toBe('ERR_REDIS_AUTH');
      expect(e.message).toMatch(expected);
      expect(shown(e)).not.toContain(PASSWORD);
      expect(inspect(store, { depth: 5 }) + JSON.stringify(store) + store.server).not.toContain(PASSWORD);
      await store.close();
    }
    expect(String(await good.get('k'))).toBe('v'); // the data is intact
    await good.drop();
    await good.close();
  });

  it('an ACL user without permission to write: RedisAuthError, nothing written', async () => {
    const admin = new IORedis(lockedUrl());
    await admin.acl('SETUSER', 'reader', 'on', `>${PASSWORD}`, '~*', '+@read', '+@connection', '+info');
    const reader = new Redis(lockedUrl(PASSWORD, 'reader'), { name: 'acl' });
    try {
      expect(String(await reader.get('k'))).toBe('');
      const e = await failure(reader.append({ k: b('v') }));
      expect(e).toBeInstanceOf(RedisAuthError);
      expect(e.message).toMatch(/refused the call to this user \(ACL\): NOPERM/);
      expect(shown(e)).not.toContain(PASSWORD);
      expect(await admin.exists('partd:acl:d:k')).toBe(0);
    } finally {
      await reader.close();
      admin.disconnect();
    }
  });

  it('maxmemory reached: RedisOutOfMemoryError, the call not applied, earlier data intact, usable after a delete', async () => {
    const small = await startRedis('--maxmemory', '2mb', '--maxmemory-policy', 'noeviction');
    const store = new Redis(small.url, { name: 'oom' });
    try {
      let appended = 0;
      let e: Error | undefined;
      const chunk = Buffer.alloc(64 << 10, 1);
      while (e === undefined && appended < 1000) {
        e = await failure(store.append({ [`k${appended}`]: chunk, last: b(String(appended)) })).catch(() => undefined);
        if (e === undefined) appended++;
      }
      expect(e).toBeInstanceOf(RedisOutOfMemoryError);
      expect((e as PartdError).code).toBe('ERR_REDIS_OOM');
      expect(e!.message).toMatch(
        /^append: Redis at redis:\/\/127\.0\.0\.1:\d+ is out of memory \(maxmemory reached: OOM command not allowed when used memory > 'maxmemory'\.\); nothing of the call was applied$/,
      );
      expect(appended).toBeGreaterThan(0);
      expect((await store.get(`k${appended}`)).length).toBe(0); // the failed call: none of its keys
      expect(String(await store.get('last'))).toBe(Array.from({ length: appended }, (_, i) => i).join(''));
      const kept = await store.get(Array.from({ length: appended }, (_, i) => `k${i}`));
      expect(kept.every((v) => Buffer.compare(Buffer.from(v), chunk) === 0)).toBe(true);
      await store.delete(Array.from({ length: appended }, (_, i) => `k${i}`));
      await store.append({ after: chunk });
      expect((await store.get('after')).length).toBe(chunk.length);
    } finally {
      await store.close();
      await small.stop();
    }
  });

  it('a key of another type: RedisWrongTypeError for a read and for a write (nothing of it applied)', async () => {
    const store = new Redis(plain.url, { name: 'wt' });
    const raw = new IORedis(plain.url);
    try {
      await raw.hset('partd:wt:d:h', 'f', 'v');
      await store.append({ ok: b('1') });
      const e = await failure(store.append({ ok: b('2'), h: b('x') }));
      expect(e).toBeInstanceOf(RedisWrongTypeError);
      expect((e as PartdError).code).toBe('ERR_REDIS_WRONGTYPE');
      expect(e.message).toBe(
        `append: Redis at ${plain.url} : key h is held in Redis as a hash, not a list; nothing of the call was applied`.replace(' :', ':'),
      );
      expect(String(await store.get('ok'))).toBe('1');
      await expect(store.get(['ok', 'h'])).rejects.toThrow(RedisWrongTypeError);
      await expect(store.pop('h')).rejects.toThrow(RedisWrongTypeError);
      expect(await raw.hget('partd:wt:d:h', 'f')).toBe('v');
    } finally {
      await raw.del('partd:wt:d:h');
      await store.drop();
      await store.close();
      raw.disconnect();
    }
  });
});

describe('a connection lost mid-call', () => {
  /** A server whose commands from normal clients are held (CLIENT PAUSE) so that a call is on its way when it is killed. */
  async function paused(server: RedisProcess): Promise<void> {
    server.cli('client', 'pause', '20000', 'ALL');
  }

  it('a write on its way: RedisConnectionLostError (not sent again); the store works once the server is back', async () => {
    const server = await startRedis();
    const store = new Redis(server.url, { name: 'lost' });
    try {
      await store.append({ k: b('before') });
      await paused(server);
      const write = failure(store.append({ k: b('lost?') }));
      await server.restart(); // SIGKILL, then up again, empty (no persistence)
      const e = await write;
      expect(e).toBeInstanceOf(RedisConnectionLostError);
      expect((e as PartdError).code).toBe('ERR_REDIS_CONNECTION_LOST');
      expect(e.message).toBe(
        `append: Redis at ${server.url}: the connection was lost before the reply; the write may or may not have been applied, so it was not sent again`,
      );
      await store.append({ k: b('after') });
      expect(String(await store.get('k'))).toBe('after'); // once: the lost write was not sent again
    } finally {
      await store.close();
      await server.stop();
    }
  });

  it('a read on its way is sent again after the reconnect', async () => {
    const server = await startRedis();
    const store = new Redis(server.url, { name: 'lost' });
    try {
      await store.append({ k: b('gone with the restart') });
      await paused(server);
      const read = store.get(['k', 'j']);
      await server.restart();
      expect((await read).map(String)).toEqual(['', '']); // read again, from the restarted (empty) server
      await store.append({ k: b('new') });
      expect(String(await store.get('k'))).toBe('new');
    } finally {
      await store.close();
      await server.stop();
    }
  });

  it('a server that stays down: RedisUnreachableError for the next calls', async () => {
    const server = await startRedis();
    const store = new Redis(server.url, { name: 'down' });
    try {
      await store.append({ k: b('1') });
      await server.stop();
      await expect(store.get('k')).rejects.toThrow(RedisUnreachableError);
      await expect(store.append({ k: b('2') })).rejects.toThrow(
        /^append: Redis at redis:\/\/127\.0\.0\.1:\d+ is unreachable \(connect ECONNREFUSED [\d.:]+\); nothing of the call was sent$/,
      );
    } finally {
      await store.close();
    }
  });
});

describe('temporary stores', () => {
  it('carry a TTL (named ones none); close and drop remove their keys', async () => {
    const raw = new IORedis(plain.url);
    const temp = new Redis(plain.url);
    const kept = new Redis(plain.url, { name: 'kept' });
    try {
      expect(temp.temporary).toBe(true);
      await temp.append({ a: b('1'), b: b('2') });
      await kept.append({ a: b('1') });
      const ttl = await raw.pttl(`partd:${temp.name}:d:a`);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(3_600_000);
      expect(await raw.pttl('partd:kept:d:a')).toBe(-1);
      await temp.drop();
      expect(await keysOf(plain.url, temp.name)).toEqual([]);
      await temp.append({ c: b('3') });
      expect(await keysOf(plain.url, temp.name)).toEqual([`partd:${temp.name}:d:c`]);
      await temp.close();
      expect(await keysOf(plain.url, temp.name)).toEqual([]);
    } finally {
      await kept.drop();
      await Promise.all([temp.close(), kept.close()]);
      raw.disconnect();
    }
  });

  it('refresh the TTL of their keys while open', async () => {
    const store = new Redis(plain.url, { ttl: 1500 });
    try {
      await store.append({ a: b('1') });
      await store.iset('s', b('set'));
      // past twice the TTL with no write: the refresh (every third of it) kept the keys
      await new Promise((resolve) => setTimeout(resolve, 3200));
      expect((await store.get(['a', 's'])).map(String)).toEqual(['1', 'set']);
    } finally {
      await store.close();
    }
  });

  it.each(['exit', 'throw', 'reject', 'SIGINT', 'SIGTERM'])('are removed when the process ends: %s', async (how) => {
    const signal = how.startsWith('SIG') ? (how as NodeJS.Signals) : undefined;
    let name = '';
    const result = await runNode(fixture('redis-temp-child.mjs'), [signal ? 'signal' : how, lockedUrl()], (line, child) => {
      name = (JSON.parse(line) as { name: string }).name;
      if (signal) child.kill(signal);
    });
    expect(name).toMatch(/^tmp-/);
    expect(await keysOf(lockedUrl(), name)).toEqual([]);
    expect(result.stdout + result.stderr).not.toContain(PASSWORD);
    if (signal) expect(result.signal).toBe(signal);
    else expect(result.code).toBe(how === 'exit' ? 0 : 1);
  });

  it('of a process killed outright (SIGKILL) expire by their TTL', async () => {
    let name = '';
    await runNode(fixture('redis-temp-child.mjs'), ['signal', lockedUrl(), '1000'], (line, child) => {
      name = (JSON.parse(line) as { name: string }).name;
      child.kill('SIGKILL');
    });
    expect(await keysOf(lockedUrl(), name)).toEqual([`partd:${name}:d:x`, `partd:${name}:d:y`]); // left behind
    for (let i = 0; i < 100 && (await keysOf(lockedUrl(), name)).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await keysOf(lockedUrl(), name)).toEqual([]);
  });

  it('a wrong password in a child process: no output of it shows the password', async () => {
    const result = await runNode(fixture('redis-temp-child.mjs'), ['wrong-password', lockedUrl()]);
    expect(result.stderr).toMatch(/RedisAuthError: get: Redis at redis:\/\/127\.0\.0\.1:\d+ refused the credentials: WRONGPASS/);
    expect(result.stdout + result.stderr).not.toContain('wrong-secret');
    expect(result.stdout + result.stderr).not.toContain(PASSWORD);
    expect(result.code).toBe(0);
  });
});

describe('TLS', () => {
  it('ioredis options with tls and a rediss:// URL go to ioredis as given', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'partd-tls-'));
    const [key, cert] = [path.join(dir, 'key.pem'), path.join(dir, 'cert.pem')];
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      {
        stdio: 'ignore',
      },
    );
    const [tlsPort] = await freePorts(1);
    const server = await startRedis(
      '--tls-port',
      String(tlsPort),
      '--tls-cert-file',
      cert,
      '--tls-key-file',
      key,
      '--tls-ca-cert-file',
      cert,
      '--tls-auth-clients',
      'no',
    );
    const trusted = new Redis({ host: '127.0.0.1', port: tlsPort, tls: { ca: [fs.readFileSync(cert)] } }, { name: 'tls' });
    const untrusted = new Redis(`rediss://127.0.0.1:${tlsPort}`, { name: 'tls' });
    try {
      expect(trusted.server).toBe(`rediss://127.0.0.1:${tlsPort}`);
      await trusted.append({ k: b('over TLS') });
      expect(String(await trusted.get('k'))).toBe('over TLS');
      // the URL made a TLS connection, which refuses the certificate no CA given vouches for
      await expect(untrusted.get('k')).rejects.toThrow(
        /^get: Redis at rediss:\/\/127\.0\.0\.1:\d+ is unreachable \(self[- ]signed certificate/,
      );
      await trusted.drop();
    } finally {
      await Promise.all([trusted.close(), untrusted.close()]);
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the test helper', () => {
  it('says in one line how to get redis-server when it is not on PATH', () => {
    expect(redisMissing('/nonexistent:/also-not')).toBe(
      'redis-server is not on PATH: install Redis to run the Redis tests (Debian/Ubuntu: apt-get install -y redis-server)',
    );
    expect(redisMissing()).toBeUndefined();
  });
});
