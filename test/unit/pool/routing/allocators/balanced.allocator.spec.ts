import { BalancedAllocator, RoundRobinAllocator } from '../../../../../src/pool/routing/allocators';
import { movedRegions } from '../../../../../src/pool/routing/assignment';
import { minBalancedMoves, minBalancedMovesTwoNodes, seededRandom } from './min-moves.oracle';

const ABCD = 'ABCDABCDABCDABCD'.split('');
const ABC = 'ABCABCABCABCABCA'.split('');

describe('BalancedAllocator', () => {
  const sut = new BalancedAllocator();
  const moved = (from: string[], to: string[]) =>
    movedRegions({ owners: from }, { owners: to }).length;

  it('on removing D moves only D’s 4 regions (round-robin moves 10)', () => {
    const next = sut.allocate(ABCD, ['A', 'B', 'C']);
    // A, B, C tie at 4 regions each: A, first in the list, gets the 6th. D's 3, 7, 11, 15 are
    // dealt A, B, C, A.
    expect(next).toEqual('ABCAABCBABCCABCA'.split(''));
    expect(moved(ABCD, next)).toBe(4);
    expect(moved(ABCD, new RoundRobinAllocator().allocate(ABCD, ['A', 'B', 'C']))).toBe(10);
  });

  it('on adding D gives it one region from each of A, B, C and A’s extra one', () => {
    const next = sut.allocate(ABC, ['A', 'B', 'C', 'D']);
    // Over-target nodes keep their lowest regions; the freed 12..15 all go to D.
    expect(next).toEqual('ABCABCABCABCDDDD'.split(''));
    expect(moved(ABC, next)).toBe(4);
  });

  it('deals the regions of removed nodes in region order over the pool in list order', () => {
    const next = sut.allocate(ABCD, ['C', 'E', 'F']);
    // C keeps 2, 6, 10, 14 and, holding most, a target of 6; the 12 freed regions are dealt
    // C, E, F, C, E, F, then E, F, ... once C is full.
    expect(next).toEqual('CECFCECFEFCEFECF'.split(''));
    expect(moved(ABCD, next)).toBe(minBalancedMoves(ABCD, ['C', 'E', 'F']));
  });

  it('meets the true optimum found by trying all 2^16 two-node assignments', () => {
    const random = seededRandom(7);
    for (let trial = 0; trial < 6; trial += 1) {
      const previous = Array.from({ length: 16 }, () => 'ABC'[Math.floor(random() * 3)]);
      const exact = minBalancedMovesTwoNodes(previous, ['A', 'B']);
      expect(minBalancedMoves(previous, ['A', 'B'])).toBe(exact);
      expect(moved(previous, sut.allocate(previous, ['A', 'B']))).toBe(exact);
    }
  });
});
