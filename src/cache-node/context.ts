import type { NodePolicy } from '../protocol/cache-node.protocol';
import type { Ownership } from './ownership';
import type { NodeStatsRecorder } from './stats';
import type { CacheStore } from './store';
import type { SubscriptionTable } from './subscriptions';

export interface CacheNodeOptions {
  port: number;
  host: string;
  capacityBytes: number;
  policy: NodePolicy;
  /** Pool secret: required from callers on every route but /health, and sent on transfers. */
  secret: string | undefined;
  leaseTtlMs: number;
  /** Near-cache lease this node grants its subscribers (subscriptions.ts), and holds regions for. */
  nearLeaseMs: number;
  leaseMaxBytes: number;
  tombstoneTtlMs: number;
  tombstoneMaxBytes: number;
  /** What one client can hold (server.ts): header and request deadlines, idle keep-alive, connections. */
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxConnections: number;
}

/** The node's state, shared by the route handlers. */
export interface NodeContext {
  readonly options: CacheNodeOptions;
  readonly store: CacheStore;
  readonly ownership: Ownership;
  readonly stats: NodeStatsRecorder;
  /** Near-cache subscribers of this node's regions (subscriptions.ts). */
  readonly subscriptions: SubscriptionTable;
}
