import { BalancedAllocator, RoundRobinAllocator } from '../../../../../src/pool/routing/allocators';
import { movedRegions } from '../../../../../src/pool/routing/assignment';
import { minBalancedMoves, seededRandom, subsets } from './min-moves.oracle';

/*
 * Every pool change between 1 and 8 nodes: from each start of `a` nodes, to `b` nodes made of
 * every subset of survivors (removals at the front, middle and end) plus fresh nodes, with the
 * list in given and reversed order. The balanced allocator must balance, move exactly the
 * oracle's minimum, and be deterministic.
 */
const sut = new BalancedAllocator();
const OLD = ['n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7', 'n8'];
const FRESH = ['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8'];

function grownByBalanced(a: number): string[] {
  let owners: string[] | null = null;
  for (let k = 1; k <= a; k += 1) owners = sut.allocate(owners, OLD.slice(0, k));
  return owners as string[];
}

function starts(a: number): [string, string[]][] {
  const random = seededRandom(a);
  const pool = OLD.slice(0, a);
  const unbalanced = (): string[] =>
    Array.from({ length: 16 }, () => pool[Math.floor(random() * random() * a)]);
  return [
    ['grown one node at a time by balanced', grownByBalanced(a)],
    ['round-robin', new RoundRobinAllocator().allocate(null, pool)],
    ['skewed random 1', unbalanced()],
    ['skewed random 2', unbalanced()],
  ];
}

function targetPools(a: number, b: number): string[][] {
  const pools: string[][] = [];
  for (let survivors = 0; survivors <= Math.min(a, b); survivors += 1) {
    for (const kept of subsets(OLD.slice(0, a), survivors)) {
      const nodes = [...kept, ...FRESH.slice(0, b - survivors)];
      pools.push(nodes, [...nodes].reverse());
    }
  }
  return pools;
}

function counts(owners: string[], nodes: string[]): number[] {
  return nodes.map((id) => owners.filter((owner) => owner === id).length);
}

describe('BalancedAllocator over every change between 1 and 8 nodes', () => {
  const sizes = [1, 2, 3, 4, 5, 6, 7, 8];

  // Failures are collected and asserted once: thousands of expect() calls would cost seconds.
  it.each(sizes)('from %i nodes', (a) => {
    const failures: string[] = [];
    let checked = 0;
    for (const [startName, previous] of starts(a)) {
      for (const b of sizes) {
        for (const nodes of targetPools(a, b)) {
          const next = sut.allocate(previous, nodes);
          const where = `${startName} [${previous}] → [${nodes}]: [${next}]`;
          const perNode = counts(next, nodes);
          const moved = movedRegions({ owners: previous }, { owners: next }).length;
          const optimum = minBalancedMoves(previous, nodes);
          if (perNode.reduce((sum, c) => sum + c, 0) !== 16)
            failures.push(`${where} left the pool`);
          if (Math.max(...perNode) - Math.min(...perNode) > 1) failures.push(`${where} unbalanced`);
          if (moved !== optimum) failures.push(`${where} moved ${moved}, optimum ${optimum}`);
          if (sut.allocate([...previous], [...nodes]).join() !== next.join()) {
            failures.push(`${where} not deterministic`);
          }
          checked += 1;
        }
      }
    }
    expect(failures).toEqual([]);
    // 4 starts × 8 target sizes × at least one pool in two orders.
    expect(checked).toBeGreaterThanOrEqual(4 * 8 * 2);
  });
});
