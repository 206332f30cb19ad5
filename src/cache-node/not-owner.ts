import type { NodeNotOwnerBody } from '../protocol/cache-node.protocol';
import type { NodeContext } from './context';

/** A key request for a region this node does not own: counted, and answered with the node's epoch. */
export function notOwnerBody(ctx: NodeContext, region: number): NodeNotOwnerBody {
  ctx.stats.counters.notOwner++;
  return { error: 'not_owner', epoch: ctx.ownership.epoch, region };
}
