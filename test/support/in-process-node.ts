import { createCacheNode, type CacheNode } from '../../src/cache-node/server';

type NodeOptions = Parameters<typeof createCacheNode>[0];

/**
 * A cache node in the test's own process, on a free loopback port once listen() is called: for
 * tests that need the node's real sockets and protocol but not a separate process.
 */
export function inProcessNode(overrides: Partial<NodeOptions> = {}): CacheNode {
  return createCacheNode({
    headersTimeoutMs: 20_000,
    requestTimeoutMs: 120_000,
    keepAliveTimeoutMs: 5_000,
    maxConnections: 1024,
    port: 0,
    host: '127.0.0.1',
    capacityBytes: 16 * 1024 * 1024,
    policy: 'lru',
    secret: undefined,
    leaseTtlMs: 10_000,
    nearLeaseMs: 3_000,
    leaseMaxBytes: 1024 * 1024,
    tombstoneTtlMs: 60_000,
    tombstoneMaxBytes: 1024 * 1024,
    ...overrides,
  });
}
