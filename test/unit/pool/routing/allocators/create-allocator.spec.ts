import {
  ALLOCATOR_NAMES,
  AllocatorName,
  createAllocator,
} from '../../../../../src/pool/routing/allocators';
import { InvalidAssignmentError } from '../../../../../src/pool/routing/assignment';

const ids = (n: number) => Array.from({ length: n }, (_, i) => `node-${i + 1}`);

describe('createAllocator', () => {
  it('builds each named allocator, balanced by default', () => {
    expect(createAllocator().name).toBe('balanced');
    for (const name of ALLOCATOR_NAMES) expect(createAllocator(name).name).toBe(name);
  });

  it('refuses an unknown name', () => {
    expect(() => createAllocator('hash' as AllocatorName)).toThrow(/unknown allocator "hash"/);
  });
});

describe.each(ALLOCATOR_NAMES)('%s allocator', (name) => {
  const sut = createAllocator(name);

  it('starts fresh with region i on nodes[i mod n], for 1..20 nodes', () => {
    for (let n = 1; n <= 20; n += 1) {
      const nodes = ids(n);
      expect(sut.allocate(null, nodes)).toEqual(Array.from({ length: 16 }, (_, i) => nodes[i % n]));
    }
  });

  it('leaves its inputs untouched', () => {
    const previous = sut.allocate(null, ids(4));
    const nodes = ['x', ...ids(2)];
    const [previousCopy, nodesCopy] = [[...previous], [...nodes]];
    sut.allocate(previous, nodes);
    expect([previous, nodes]).toEqual([previousCopy, nodesCopy]);
  });

  it.each([
    ['an empty pool', null, []],
    ['a duplicate node id', null, ['a', 'b', 'a']],
    ['an empty node id', null, ['a', '']],
    ['a previous assignment of the wrong length', ['a', 'b'], ['a']],
  ])('rejects %s', (_, previous, nodes) => {
    expect(() => sut.allocate(previous, nodes)).toThrow(InvalidAssignmentError);
  });
});
