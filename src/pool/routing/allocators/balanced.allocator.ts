import { REGION_COUNT } from '../../../protocol/hash-ring';
import { Allocator, assertValidAllocateInput } from './allocator';

/**
 * The default allocator: region counts per node differ by at most 1, and a resize moves the
 * fewest regions any such assignment can, so the fewest cached entries travel or go cold.
 *
 * Why that minimum is reached. Let n nodes, 16 = q·n + r with 0 ≤ r < n. Counts that differ by
 * at most 1 and sum to 16 are exactly: r nodes own q+1, the others q. Call t_v the target of v
 * and c_v the regions v owned before (0 for a new node). A region keeps its owner only if that
 * owner is still in the pool and still owns it, so every balanced assignment with targets t keeps
 * at most Σ_v min(c_v, t_v) = Σ_v min(c_v, q) + |{v with t_v = q+1 and c_v ≥ q+1}| regions.
 * That bound is largest when the q+1 slots go to the nodes that held most (1). Each node then
 * keeps min(c_v, t_v) of its regions (2), and the regions freed by removed or over-target nodes
 * number 16 − kept = Σ_v (t_v − min(c_v, t_v)), exactly the room left under the targets, so
 * dealing them out (3) fills every node to its target. The bound is met: no balanced assignment
 * moves fewer regions.
 *
 * Ties, broken by stable rules so that every front-end computes the same owners:
 * (1) equal holdings → the node earlier in `nodes` gets q+1;
 * (2) an over-target node keeps its lowest-numbered regions;
 * (3) freed regions, in ascending order, are dealt like cards over `nodes` in list order,
 *     skipping nodes already at target. On a fresh start nothing is held, so this yields
 *     region i → nodes[i mod n], the same as round-robin.
 */
export class BalancedAllocator implements Allocator {
  readonly name = 'balanced';

  allocate(previous: readonly string[] | null, nodes: readonly string[]): string[] {
    assertValidAllocateInput(previous, nodes);
    const held = heldRegions(previous, nodes);
    const targets = targetCounts(nodes, held);
    const owners = new Array<string | undefined>(REGION_COUNT).fill(undefined);
    const room = nodes.map((id, i) => {
      const kept = held[i].slice(0, targets[i]);
      kept.forEach((region) => (owners[region] = id));
      return targets[i] - kept.length;
    });
    let next = 0;
    owners.forEach((owner, region) => {
      if (owner !== undefined) return;
      while (room[next] === 0) next = (next + 1) % nodes.length;
      owners[region] = nodes[next];
      room[next] -= 1;
      next = (next + 1) % nodes.length;
    });
    return owners as string[];
  }
}

/** Regions each listed node owned before, ascending; removed nodes' regions are simply free. */
function heldRegions(previous: readonly string[] | null, nodes: readonly string[]): number[][] {
  const index = new Map(nodes.map((id, i) => [id, i]));
  const held = nodes.map((): number[] => []);
  previous?.forEach((owner, region) => {
    const i = index.get(owner);
    if (i !== undefined) held[i].push(region);
  });
  return held;
}

/** q or q+1 per node; the q+1 slots go to the nodes holding most (ties: earlier in the list). */
function targetCounts(nodes: readonly string[], held: readonly number[][]): number[] {
  const q = Math.floor(REGION_COUNT / nodes.length);
  const r = REGION_COUNT % nodes.length;
  const ranked = nodes.map((_, i) => i).sort((a, b) => held[b].length - held[a].length || a - b);
  const targets = nodes.map(() => q);
  ranked.slice(0, r).forEach((i) => (targets[i] = q + 1));
  return targets;
}
