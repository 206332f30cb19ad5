/**
 * Test oracle, written apart from the allocator: the fewest regions any balanced assignment of
 * `nodes` can move away from `previous`. Balanced means r = 16 mod n nodes own q+1 regions and
 * the rest q; for each such target vector a node keeps at most min(held, target) regions, so try
 * every choice of the r nodes (at most C(8,4) = 70) and take the best.
 */
export function minBalancedMoves(previous: readonly string[], nodes: readonly string[]): number {
  const n = nodes.length;
  const q = Math.floor(16 / n);
  const r = 16 % n;
  const held = nodes.map((id) => previous.filter((owner) => owner === id).length);
  let bestKept = 0;
  for (let mask = 0; mask < 1 << n; mask += 1) {
    if (popcount(mask) !== r) continue;
    const kept = held.reduce((sum, c, i) => sum + Math.min(c, mask & (1 << i) ? q + 1 : q), 0);
    bestKept = Math.max(bestKept, kept);
  }
  return 16 - bestKept;
}

/** Exhaustive over all 2^16 two-node assignments: checks the oracle's bound is really met. */
export function minBalancedMovesTwoNodes(previous: readonly string[], nodes: [string, string]) {
  let best = 16;
  for (let mask = 0; mask < 1 << 16; mask += 1) {
    if (popcount(mask) !== 8) continue;
    const moved = previous.filter((owner, i) => owner !== nodes[(mask >> i) & 1]).length;
    best = Math.min(best, moved);
  }
  return best;
}

function popcount(x: number): number {
  let count = 0;
  for (let v = x; v !== 0; v &= v - 1) count += 1;
  return count;
}

/** Small seeded generator so "random" starts are the same on every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Every k-element subset of `items`, in lexicographic order of positions. */
export function subsets<T>(items: readonly T[], k: number): T[][] {
  if (k === 0) return [[]];
  if (items.length < k) return [];
  const [first, ...rest] = items;
  return [...subsets(rest, k - 1).map((s) => [first, ...s]), ...subsets(rest, k)];
}
