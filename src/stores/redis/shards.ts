/**
 * A call's keys in parts, one script each: on a Redis Cluster without a hash tag, one part per
 * primary serving the keys' slots (ioredis' slot map); else the whole call. Runs in any thread.
 *
 * A part whose slots moved under it (a resharding, a failover) is refused whole before its script
 * writes anything (see scripts.ts): it is regrouped on a fresh slot map and sent again, a few
 * times. ioredis itself follows MOVED, ASK, TRYAGAIN and CLUSTERDOWN for the part's first key.
 */
import calculateSlot from 'cluster-key-slot';
import type { Cluster } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';

/** The indices, in the call, of the keys of one part. */
export type Part = number[];

/** What one part of a call gave. */
type Outcome<T> = { at: Part; values: T[] } | { at: Part; error: unknown };

/** Redis refused a part because its keys are not all on the node it reached. */
const MOVED_UNDER =
  /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN|CROSSSLOT) |Script attempted to (access a non local key|execute a command while the cluster is down)/;
/** A moved part is sent again this many times, after 50, 100, 200… ms and a refresh of the slot map. */
const MOVED_RETRIES = 5;

/** The part of a call that failed first, with what the others did. */
export class PartFailed extends Error {
  constructor(
    /** The error of the part, as Redis or ioredis gave it. */
    readonly reason: unknown,
    /** The part's keys (indices in the call). */
    readonly at: Part,
    /** What of the call was applied, when it had several parts and writes. */
    readonly landed: string | undefined,
  ) {
    super('a part of the call failed');
  }
}

/** `at` (every key by default) grouped by the primary that serves each key's slot, in first-seen order. */
function partsOf(client: Cluster, keys: readonly string[], at: Iterable<number> = keys.keys()): Part[] {
  const byNode = new Map<string, Part>();
  for (const i of at) {
    const slot = calculateSlot(keys[i]!);
    const node = client.slots[slot]?.[0] ?? `slot ${slot}`; // a slot no node serves yet: alone, ioredis finds its node
    let part = byNode.get(node);
    if (part === undefined) byNode.set(node, (part = []));
    part.push(i);
  }
  return [...byNode.values()];
}

/**
 * Sends `send(keys of a part, part)` for every part of `keys` at once (in this tick, so in call
 * order with the calls made after), `cluster` being the client on a Cluster without a hash tag;
 * resolves to each key's value in call order (what `send` gives per key of its part). Rejects
 * with `PartFailed` naming the first part that failed, once every part has settled.
 */
export async function sendParts<T>(
  cluster: Cluster | undefined,
  keys: readonly string[],
  send: (keys: string[], at: Part) => Promise<T[]>,
  writes: boolean,
): Promise<T[]> {
  if (keys.length === 0) return [];
  const attempt = async (at: Part, tries: number): Promise<Outcome<T>[]> => {
    try {
      return [
        {
          at,
          values: await send(
            at.map((i) => keys[i]!),
            at,
          ),
        },
      ];
    } catch (error) {
      if (cluster === undefined || tries >= MOVED_RETRIES || !MOVED_UNDER.test(messageOf(error))) return [{ at, error }];
      await sleep(50 << tries);
      await new Promise<void>((resolve) => cluster.refreshSlotsCache(() => resolve())); // its failure is the next attempt's
      return (await Promise.all(partsOf(cluster, keys, at).map((p) => attempt(p, tries + 1)))).flat();
    }
  };
  const parts = cluster ? partsOf(cluster, keys) : [[...keys.keys()]];
  const outcomes = (await Promise.all(parts.map((p) => attempt(p, 0)))).flat();
  const failed = outcomes.find((o) => 'error' in o);
  if (failed === undefined) {
    const out = new Array<T>(keys.length);
    for (const o of outcomes) if ('values' in o) o.at.forEach((i, j) => (out[i] = o.values[j]!));
    return out;
  }
  const applied = outcomes.filter((o) => 'values' in o);
  const landed =
    writes && outcomes.length > 1
      ? `on a Cluster without hashTag each primary's part of a call is applied on its own: ${applied.length} of ${outcomes.length} parts ` +
        `(${applied.reduce((n, o) => n + o.at.length, 0)} of ${keys.length} keys) were applied`
      : undefined;
  throw new PartFailed((failed as { error: unknown }).error, failed.at, landed);
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : typeof e === 'string' ? e : '';
}
