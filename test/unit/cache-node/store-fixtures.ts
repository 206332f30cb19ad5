import type { NodePolicy } from '../../../src/protocol/cache-node.protocol';
import { ENTRY_OVERHEAD_BYTES } from '../../../src/cache-node/entry';
import { CacheStore, type WriteRequest } from '../../../src/cache-node/store';
import { blockBytes } from '../../../src/cache-node/value-pool';

export const CONTENT_TYPE = 'image/png';

/** Bytes one test entry takes: keys like k00 (3 bytes), 100-byte values (in 128-byte blocks). */
export const ENTRY_BYTES = 3 + CONTENT_TYPE.length + blockBytes(100) + ENTRY_OVERHEAD_BYTES;

export function key(i: number): string {
  return `k${String(i).padStart(2, '0')}`;
}

export function write(k: string, version = 1, bytes = 100, region = 0): WriteRequest {
  return {
    key: k,
    region,
    value: Buffer.alloc(bytes, version % 256),
    contentType: CONTENT_TYPE,
    version,
  };
}

/** A seeded generator (mulberry32), so "random" tests are repeatable. */
export { seededRandom as seeded } from '../../support/seeded-random';

export interface FakeClock {
  now: () => number;
  advance(ms: number): void;
}

export function fakeClock(): FakeClock {
  let t = 1_000_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

export function makeStore(
  options: { entries?: number; policy?: NodePolicy; random?: () => number; clock?: FakeClock } = {},
): CacheStore {
  return new CacheStore({
    capacityBytes: (options.entries ?? 10) * ENTRY_BYTES,
    policy: options.policy ?? 'lru',
    leases: { ttlMs: 10_000, maxBytes: 1 << 20 },
    tombstones: { ttlMs: 60_000, maxBytes: 1 << 20 },
    now: options.clock?.now,
    random: options.random,
  });
}

export function keysOf(store: CacheStore, count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) if (store.table.peek(key(i))) out.push(key(i));
  return out;
}
