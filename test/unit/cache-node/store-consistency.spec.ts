import { fakeClock, makeStore, write } from './store-fixtures';

/**
 * The write rules of store.ts in process, with a fake clock. The same scenarios run over real
 * sockets in node-consistency.spec.ts.
 */
describe('store consistency rules', () => {
  it('a fill whose key was invalidated after the lease was issued is refused (stale fill)', () => {
    const sut = makeStore();
    const lease = sut.issueLease('img', 0); // reader A misses, goes to read v1
    expect(sut.invalidate('img', 0, 2)).toBe(false); // upload of v2 committed, invalidated
    expect(sut.fill(write('img', 1), lease)).toBe('lease');
    expect(sut.table.peek('img')).toBeUndefined();
    const fresh = sut.issueLease('img', 0); // reader B misses after the upload, reads v2
    expect(sut.fill(write('img', 2), fresh)).toBe('stored');
    expect(sut.table.peek('img')?.version).toBe(2);
  });

  it('a lease is single-use, bound to its key, and expires', () => {
    const clock = fakeClock();
    const sut = makeStore({ clock });
    const lease = sut.issueLease('a', 0);
    expect(sut.issueLease('a', 0)).toBe(lease); // concurrent missers share it
    expect(sut.fill(write('b', 1), lease)).toBe('lease');
    expect(sut.fill(write('a', 1), lease)).toBe('stored');
    sut.invalidate('a', 0, 1);
    const second = sut.issueLease('a', 0);
    expect(second).not.toBe(lease);
    expect(sut.fill(write('a', 3), lease)).toBe('lease');
    clock.advance(10_001);
    expect(sut.fill(write('a', 3), second)).toBe('lease');
  });

  it('a fill never replaces a newer entry and never goes below a tombstone', () => {
    const sut = makeStore();
    sut.put(write('a', 5));
    expect(sut.fill(write('a', 4), sut.issueLease('a', 0))).toBe('version');
    sut.invalidate('a', 0, 7);
    expect(sut.fill(write('a', 6), sut.issueLease('a', 0))).toBe('tombstone');
    expect(sut.fill(write('a', 7), sut.issueLease('a', 0))).toBe('stored');
  });

  it('imports keep the newer side and respect tombstones; the upload a tombstone records moves', () => {
    const sut = makeStore();
    sut.put(write('held', 5));
    expect(sut.import(write('held', 5))).toBe('kept');
    expect(sut.import(write('held', 4))).toBe('kept');
    expect(sut.import(write('held', 6))).toBe('stored');
    sut.invalidate('gone', 0, 3);
    expect(sut.import(write('gone', 2))).toBe('tombstone');
    // Version 3 is the upload whose invalidation left the tombstone: a filled copy of it is current.
    expect(sut.import(write('gone', 3))).toBe('stored');
    expect(sut.import(write('gone', 4))).toBe('stored');
  });

  it('a tombstone that expires still refuses older imports through the region floor', () => {
    const clock = fakeClock();
    const sut = makeStore({ clock });
    sut.invalidate('a', 3, 100);
    clock.advance(60_001);
    expect(sut.import(write('a', 99, 100, 3))).toBe('tombstone');
    expect(sut.tombstoneCount).toBe(0);
    // The floor is per region and only refuses what it must.
    expect(sut.import(write('b', 101, 100, 3))).toBe('stored');
    expect(sut.import(write('c', 50, 100, 4))).toBe('stored');
    expect(sut.put(write('d', 99, 100, 3))).toBe('tombstone');
    expect(sut.put(write('d', 100, 100, 3))).toBe('stored');
  });

  it('clear forgets tombstones but keeps their versions as floors', () => {
    const sut = makeStore();
    sut.put(write('x', 1));
    sut.invalidate('a', 2, 10);
    expect(sut.clear()).toBe(1);
    expect(sut.table.size).toBe(0);
    expect(sut.table.bytesUsed).toBe(0);
    expect(sut.import(write('a', 9, 100, 2))).toBe('tombstone');
  });

  it('gaining a region purges leftovers from an earlier tenure and resets its floor', () => {
    const clock = fakeClock();
    const sut = makeStore({ clock });
    sut.put(write('old', 1, 100, 5));
    sut.invalidate('t', 5, 10);
    clock.advance(60_001);
    sut.import(write('t', 1, 100, 5)); // lost tombstone → floor 10
    const lease = sut.issueLease('k', 5);
    sut.regionsLost(new Set([5]));
    expect(sut.fill(write('k', 1, 100, 5), lease)).toBe('lease');
    sut.regionsGained(new Set([5]));
    expect(sut.table.peek('old')).toBeUndefined();
    expect(sut.import(write('t', 2, 100, 5))).toBe('stored');
  });

  it('an imported tombstone drops an older entry and voids its lease, and keeps its own version', () => {
    const sut = makeStore();
    sut.put(write('a', 1));
    sut.put(write('c', 2));
    const lease = sut.issueLease('b', 0);
    sut.importTombstone('a', 0, 2);
    sut.importTombstone('b', 0, 2);
    expect(sut.table.peek('a')).toBeUndefined();
    sut.importTombstone('c', 0, 2);
    expect(sut.fill(write('b', 2), lease)).toBe('lease');
    expect(sut.import(write('a', 1))).toBe('tombstone');
    expect(sut.table.peek('c')?.version).toBe(2);
  });

  it('tombstones and leases stay within their byte budgets, and what they drop stays safe', () => {
    const sut = makeStore();
    for (let i = 0; i < 20_000; i++) {
      sut.invalidate(`key-${i}`, 1, 1000 + i);
      sut.issueLease(`lease-${i}`, 1);
    }
    // 1 MiB budgets (store-fixtures) at roughly 170-210 bytes a record.
    expect(sut.tombstoneCount).toBeLessThan(7_000);
    expect(sut.leaseCount).toBeLessThan(6_000);
    expect(sut.import(write('key-0', 1000, 100, 1))).toBe('tombstone');
    expect(sut.fill(write('lease-0', 1, 100, 1), 'zzz')).toBe('lease');
  });
});
