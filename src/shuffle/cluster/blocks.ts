/**
 * A split's output in Redis: one block per partition and commit of its scatter session, each a
 * Redis string of MessagePack frames, checked on the way back by its size and CRC-32 (a Redis
 * primary that fails over can lose writes it acknowledged). Runs in the coordinator and the
 * worker processes (main thread).
 */
import zlib from 'node:zlib';
import type { Block } from './messages.js';
import type { JobKeys } from './keys.js';
import type { Link } from './link.js';

/** Writes a session commit's entries (`[partition id, bytes]`) as blocks `first`, `first + 1`, … of a split attempt. */
export async function writeBlocks(
  link: Link,
  keys: JobKeys,
  split: number,
  token: string,
  first: number,
  entries: [string, Uint8Array][],
  ttl: number,
): Promise<Block[]> {
  const blocks = entries.map(([id, bytes], i): Block => [Number(id), keys.block(split, token, first + i), bytes.length, zlib.crc32(bytes)]);
  await Promise.all(
    blocks.map(([, key], i) => {
      const bytes = Buffer.from(entries[i]![1].buffer, entries[i]![1].byteOffset, entries[i]![1].byteLength);
      return link.call('write blocks', (c) => (ttl > 0 ? c.set(key, bytes, 'PX', ttl) : c.set(key, bytes)));
    }),
  );
  return blocks;
}

/** A partition's blocks read back in order; the indexes of those missing or corrupt instead, when any is. */
export async function readBlocks(link: Link, blocks: readonly Block[]): Promise<{ chunks: Buffer[] } | { lost: number[]; why: string }> {
  const chunks = await Promise.all(blocks.map(([, key]) => link.call('read blocks', (c) => c.getBuffer(key))));
  const lost: number[] = [];
  let why = '';
  chunks.forEach((chunk, i) => {
    const [, key, size, crc] = blocks[i]!;
    const wrong =
      chunk === null
        ? 'missing'
        : chunk.length !== size
          ? `${chunk.length} bytes, not ${size}`
          : zlib.crc32(chunk) !== crc
            ? 'a wrong CRC-32'
            : '';
    if (!wrong) return;
    lost.push(i);
    why ||= `block ${key}: ${wrong}`;
  });
  return lost.length > 0 ? { lost, why } : { chunks: chunks as Buffer[] };
}

/** Deletes blocks (an attempt whose commit lost, or a withdrawn commit's). */
export async function deleteBlocks(link: Link, blocks: readonly Block[]): Promise<void> {
  await Promise.all(blocks.map(([, key]) => link.call('delete blocks', (c) => c.unlink(key))));
}
