import { variantKey } from '../../../src/protocol/variant-key';
import { makeStore, write } from './store-fixtures';

const thumb = variantKey('img', '320x320-cover-webp-q80');
const small = variantKey('img', '100x-inside-png-q80');

/** Variants at the node: kept with their original, invalidated with it in the same step. */
describe('store: variants go with their original', () => {
  it('an invalidation of the original removes every variant of it, and only those', () => {
    const sut = makeStore();
    sut.put(write('img', 1));
    sut.put(write(thumb, 1));
    sut.put(write(small, 1));
    sut.put(write(variantKey('img2', 'x'), 1));
    sut.invalidate('img', 0, 2);
    expect([thumb, small].map((k) => sut.table.peek(k))).toEqual([undefined, undefined]);
    expect(sut.table.peek(variantKey('img2', 'x'))).toBeDefined();
  });

  it('a variant fill whose lease predates an invalidation of its original is refused', () => {
    const sut = makeStore();
    const lease = sut.issueLease(thumb, 0); // a reader misses the variant, renders from v1
    sut.invalidate('img', 0, 2); // upload of v2
    expect(sut.fill(write(thumb, 1), lease)).toBe('lease');
    expect(sut.fill(write(thumb, 2), sut.issueLease(thumb, 0))).toBe('stored');
  });

  it("the original's tombstone condemns older variants on fill, put and import", () => {
    const sut = makeStore();
    sut.invalidate('img', 0, 5);
    expect(sut.fill(write(thumb, 4), sut.issueLease(thumb, 0))).toBe('tombstone');
    expect(sut.put(write(thumb, 4))).toBe('tombstone');
    expect(sut.import(write(small, 4))).toBe('tombstone');
    expect(sut.import(write(small, 5))).toBe('stored');
  });

  it("a tombstone shipped by the region's previous owner drops older variants", () => {
    const sut = makeStore();
    sut.put(write(thumb, 3));
    sut.put(write(small, 4));
    sut.importTombstone('img', 0, 4);
    expect(sut.table.peek(thumb)).toBeUndefined();
    expect(sut.table.peek(small)?.version).toBe(4);
  });

  it('forgets a variant evicted or cleared (no group left behind to drop later)', () => {
    const sut = makeStore({ entries: 2 });
    sut.put(write(thumb, 1));
    sut.put(write('a', 1));
    sut.put(write('b', 1)); // evicts the variant (LRU)
    expect(sut.table.peek(thumb)).toBeUndefined();
    expect(sut.table.variants.variantsOf('img')).toEqual([]);
    sut.put(write(small, 1));
    sut.clear();
    expect(sut.table.variants.variantsOf('img')).toEqual([]);
  });
});
