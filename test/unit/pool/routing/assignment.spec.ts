import { createAllocator } from '../../../../src/pool/routing/allocators';
import {
  InvalidAssignmentError,
  keyMoves,
  makeAssignment,
  movedRegions,
  nextAssignment,
  nodesOf,
  ownerOfKey,
  regionsOf,
} from '../../../../src/pool/routing/assignment';

const ABCD = 'ABCDABCDABCDABCD'.split('');
const ABC = 'ABCABCABCABCABCA'.split('');

describe('makeAssignment', () => {
  it('keeps its own copy of the owners', () => {
    const owners = [...ABCD];
    const sut = makeAssignment(3, owners);
    owners[0] = 'Z';
    expect(sut).toEqual({ epoch: 3, owners: ABCD });
  });

  it.each([
    ['15 owners', ABCD.slice(1)],
    ['17 owners', [...ABCD, 'A']],
    ['an empty id', ['', ...ABCD.slice(1)]],
  ])('rejects %s', (_, owners) => {
    expect(() => makeAssignment(1, owners)).toThrow(InvalidAssignmentError);
  });

  it.each([-1, 1.5, NaN])('rejects epoch %p', (epoch) => {
    expect(() => makeAssignment(epoch, ABCD)).toThrow(InvalidAssignmentError);
  });
});

describe('queries', () => {
  const sut = makeAssignment(1, ABC);

  it('lists the regions a node owns', () => {
    expect(regionsOf(sut, 'A')).toEqual([0, 3, 6, 9, 12, 15]);
    expect(regionsOf(sut, 'D')).toEqual([]);
  });

  it('lists nodes in order of first appearance', () => {
    expect(nodesOf({ owners: 'CDCDCDCDCDCDCDCD'.split('') })).toEqual(['C', 'D']);
    expect(nodesOf(sut)).toEqual(['A', 'B', 'C']);
  });

  it('routes a key to the owner of its region', () => {
    expect(ownerOfKey(sut, 'k1')).toBe('C'); // region 11
    expect(ownerOfKey(sut, 'test')).toBe('A'); // region 0
  });
});

describe('movedRegions', () => {
  it('lists exactly the regions whose owner changes, in region order', () => {
    expect(movedRegions({ owners: ABCD }, { owners: ABC })).toEqual([
      { region: 3, from: 'D', to: 'A' },
      { region: 4, from: 'A', to: 'B' },
      { region: 5, from: 'B', to: 'C' },
      { region: 6, from: 'C', to: 'A' },
      { region: 7, from: 'D', to: 'B' },
      { region: 8, from: 'A', to: 'C' },
      { region: 9, from: 'B', to: 'A' },
      { region: 10, from: 'C', to: 'B' },
      { region: 11, from: 'D', to: 'C' },
      { region: 15, from: 'D', to: 'A' },
    ]);
  });

  it('is empty when nothing changes, and refuses malformed owners', () => {
    expect(movedRegions({ owners: ABC }, { owners: [...ABC] })).toEqual([]);
    expect(() => movedRegions({ owners: ABC }, { owners: ABC.slice(2) })).toThrow(
      InvalidAssignmentError,
    );
  });
});

describe('keyMoves', () => {
  it('sends only cached keys of moved regions, grouped by sender and receiver', () => {
    const keys = { 0: ['test'], 6: ['k2'], 11: ['k1'], 12: ['test123', 'testabc'], 7: [] };
    expect(keyMoves({ owners: ABCD }, { owners: ABC }, keys)).toEqual({
      C: { A: ['k2'] },
      D: { C: ['k1'] },
    });
  });
});

describe('nextAssignment', () => {
  it('starts at epoch 1 and advances the epoch by one per change', () => {
    const allocator = createAllocator('balanced');
    const first = nextAssignment(null, ['A', 'B'], allocator);
    const second = nextAssignment(first, ['A', 'B', 'C'], allocator);
    expect(first).toEqual({ epoch: 1, owners: 'ABABABABABABABAB'.split('') });
    expect(second.epoch).toBe(2);
    expect(new Set(second.owners)).toEqual(new Set(['A', 'B', 'C']));
  });
});
