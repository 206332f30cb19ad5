import { nodesOf } from '../assignment';
import { REGIONS } from '../../../protocol/hash-ring';
import { Allocator, assertValidAllocateInput } from './allocator';

/**
 * group15's allocator, kept bit-for-bit so its "Balance Result" logs stay our golden vectors:
 * region i → order[i mod n], where order = the previous nodes in their order minus the removed
 * ones, then the new nodes in the order given ([C,D] → [A,B,C,D] yields order C,D,A,B).
 *
 * The previous order is read back from the owners: first appearance over regions 0..15. That
 * equals group15's order for any assignment this allocator produced, since with n ≤ 16 nodes
 * regions 0..n-1 are order[0..n-1]. It needs no extra state in the stored assignment.
 *
 * It moves far more regions than it must (most of them on every resize); `balanced` is the default.
 */
export class RoundRobinAllocator implements Allocator {
  readonly name = 'round-robin';

  allocate(previous: readonly string[] | null, nodes: readonly string[]): string[] {
    assertValidAllocateInput(previous, nodes);
    const wanted = new Set(nodes);
    const kept = previous ? nodesOf({ owners: previous }).filter((id) => wanted.has(id)) : [];
    const keptSet = new Set(kept);
    const order = [...kept, ...nodes.filter((id) => !keptSet.has(id))];
    return REGIONS.map((region) => order[region % order.length]);
  }
}
