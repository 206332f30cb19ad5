import { createAllocator } from '../../../../src/pool/routing/allocators';
import { NodeEndpoint } from '../../../../src/pool/providers/node-provider.port';
import { PoolState } from '../../../../src/pool/routing/pool-state';

/** An endpoint whose host does not resolve: unit tests with fakes never connect to it. */
export function endpoint(id: string): NodeEndpoint {
  return { id, url: `http://${id}.invalid:5001` };
}

/** A state as a resize would have saved it: the balanced allocator over `ids`, no previous. */
export function poolState(epoch: number, ids: string[], previous?: PoolState): PoolState {
  const owners = createAllocator('balanced').allocate(previous?.owners ?? null, ids);
  return {
    epoch,
    owners,
    nodes: ids.map(endpoint),
    previous: previous ? { owners: previous.owners, nodes: previous.nodes } : null,
  };
}

/** Regions per node id. */
export function regionCounts(state: PoolState): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const owner of state.owners) counts[owner] = (counts[owner] ?? 0) + 1;
  return counts;
}
