import { NEAR_MAX_LEASE_MS } from '../../protocol/near-cache.protocol';
import type { PoolState } from './pool-state';

/**
 * The near-cache lease each node grants, as this instance last heard it (a health answer, or a
 * grant to its own near cache). The lease is the node's setting, not this instance's: every wait
 * for front-ends that may still serve a node's near copies is derived from what that node says,
 * so instances with another setting, or with the near cache off, wait long enough.
 *
 * A node not heard from yet could have granted anything up to the protocol's bound, so waits that
 * must cover it take NEAR_MAX_LEASE_MS (`longest`); holds asked of a node gaining regions see
 * `holdFor`.
 */
export class NodeLeases {
  private readonly byNode = new Map<string, number>();

  record(nodeId: string, leaseMs: number | undefined): void {
    if (leaseMs !== undefined && Number.isFinite(leaseMs)) this.byNode.set(nodeId, leaseMs);
  }

  /** The nodes of `state` (or its previous assignment) this instance has not heard a lease from. */
  unheard(state: PoolState | null): string[] {
    return idsOf(state).filter((id) => !this.byNode.has(id));
  }

  /** The longest lease any node of `state` (or its previous assignment) may have granted. */
  longest(state: PoolState | null): number {
    return Math.max(0, ...idsOf(state).map((id) => this.byNode.get(id) ?? NEAR_MAX_LEASE_MS));
  }

  /**
   * How long a node gaining regions of `previous` must hold them: the longest lease the previous
   * owners grant, a node not heard from taken to grant `assumedMs` (the lease of the nodes this
   * instance starts; a static or EC2 node has answered a health probe within an interval of
   * joining). Not NEAR_MAX_LEASE_MS: an app restarting with its local nodes would hold every
   * region for 30 s for nodes that died with it.
   */
  holdFor(previous: PoolState | null, assumedMs: number): number {
    return Math.max(0, ...idsOf(previous).map((id) => this.byNode.get(id) ?? assumedMs));
  }
}

function idsOf(state: PoolState | null): string[] {
  if (!state) return [];
  return [...new Set([...state.nodes, ...(state.previous?.nodes ?? [])].map((n) => n.id))];
}
