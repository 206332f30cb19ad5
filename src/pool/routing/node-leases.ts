import { NEAR_MAX_LEASE_MS } from '../../protocol/near-cache.protocol';
import type { PoolState } from './pool-state';

/**
 * The near-cache lease each node grants, as this instance last heard it (a health answer, or a
 * grant to its own near cache). The lease is the node's setting, not this instance's: every wait
 * for front-ends that may still serve a node's near copies is derived from what that node says,
 * so instances with another setting, or with the near cache off, wait long enough.
 *
 * A node not heard from yet could have granted anything up to the protocol's bound, so waits that
 * must cover it take NEAR_MAX_LEASE_MS (`longest`); holds asked of another node take only what
 * is known (`longestKnown`), the holding node adds its own lease (subscriptions.ts, step 3).
 */
export class NodeLeases {
  private readonly byNode = new Map<string, number>();

  record(nodeId: string, leaseMs: number | undefined): void {
    if (leaseMs !== undefined && Number.isFinite(leaseMs)) this.byNode.set(nodeId, leaseMs);
  }

  /** The longest lease any node of `state` (or its previous assignment) may have granted. */
  longest(state: PoolState | null): number {
    return Math.max(0, ...idsOf(state).map((id) => this.byNode.get(id) ?? NEAR_MAX_LEASE_MS));
  }

  /** The longest lease this instance has heard of from the nodes of `state`; 0 if none. */
  longestKnown(state: PoolState | null): number {
    return Math.max(0, ...idsOf(state).map((id) => this.byNode.get(id) ?? 0));
  }
}

function idsOf(state: PoolState | null): string[] {
  if (!state) return [];
  return [...new Set([...state.nodes, ...(state.previous?.nodes ?? [])].map((n) => n.id))];
}
