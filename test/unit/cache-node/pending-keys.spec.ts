import { PENDING_MAX_MS, PendingKeys } from '../../../src/cache-node/pending-keys';
import { CacheStore, type WriteRequest } from '../../../src/cache-node/store';
import { variantKey } from '../../../src/protocol/variant-key';

/** Simulated time: the test moves the clock. */
class Clock {
  time = 1000;
  now = (): number => this.time;
}

function store(clock: Clock): CacheStore {
  return new CacheStore({
    capacityBytes: 1024 * 1024,
    policy: 'lru',
    leases: { ttlMs: 10_000, maxBytes: 1024 * 1024 },
    tombstones: { ttlMs: 60_000, maxBytes: 1024 * 1024 },
    now: clock.now,
  });
}

const write = (sut: CacheStore, key: string, version: number): WriteRequest => ({
  key,
  region: 3,
  value: sut.table.acquireValue(8).fill(version),
  contentType: 'image/png',
  version,
});

describe('pending keys (simulated time)', () => {
  let clock: Clock;
  let sut: PendingKeys;
  beforeEach(() => {
    clock = new Clock();
    sut = new PendingKeys(clock.now);
  });

  it('a mark lasts its grant and no longer, capped by the node', () => {
    expect(sut.mark('k', 3, 'm1', 500)).toBe(500);
    expect(sut.isPending('k', 3)).toBe(true);
    clock.time += 499;
    expect(sut.isPending('k', 3)).toBe(true);
    clock.time += 1;
    expect(sut.isPending('k', 3)).toBe(false);
    expect(sut.size).toBe(0);
    expect(sut.mark('k', 3, 'm2', 10 * PENDING_MAX_MS)).toBe(PENDING_MAX_MS);
  });

  it('overlapping uploads: the key stays pending until the last mark is released', () => {
    sut.mark('k', 3, 'a', 5000);
    sut.mark('k', 3, 'b', 5000);
    sut.release('k', 'a');
    expect(sut.isPending('k', 3)).toBe(true);
    sut.release('k', 'a'); // a replayed release changes nothing
    expect(sut.isPending('k', 3)).toBe(true);
    sut.release('k', 'b');
    expect(sut.isPending('k', 3)).toBe(false);
  });

  it('marking again with the same id renews; other keys are not pending', () => {
    sut.mark('k', 3, 'a', 1000);
    clock.time += 900;
    sut.mark('k', 3, 'a', 1000);
    clock.time += 900;
    expect(sut.isPending('k', 3)).toBe(true);
    expect(sut.isPending('other', 3)).toBe(false);
  });

  it('a region mark (delete_all) covers every key of its regions until released or run out', () => {
    sut.markRegions([3, 4], 'all', 2000);
    expect(sut.isPending('anything', 3)).toBe(true);
    expect(sut.isPending('anything', 5)).toBe(false);
    sut.releaseRegions('all');
    expect(sut.isPending('anything', 3)).toBe(false);
    sut.markRegions([3], 'all2', 2000);
    clock.time += 2000;
    expect(sut.isPending('anything', 3)).toBe(false);
  });

  it('lists the live marks of given regions with the time they have left (for a transfer)', () => {
    sut.mark('k', 3, 'a', 5000);
    sut.mark('j', 7, 'b', 5000);
    clock.time += 1000;
    expect(sut.ofRegions(new Set([3]))).toEqual([
      { key: 'k', region: 3, id: 'a', remainingMs: 4000 },
    ]);
  });

  it('forgets expired marks of keys nobody asks about again', () => {
    for (let i = 0; i < 10; i++) sut.mark(`k${i}`, 3, 'a', 100);
    clock.time += 100;
    for (let i = 0; i < 5; i++) sut.mark(`fresh${i}`, 3, 'b', 100);
    expect(sut.size).toBeLessThan(15);
  });
});

describe('the store while a key is pending', () => {
  let clock: Clock;
  let sut: CacheStore;
  beforeEach(() => {
    clock = new Clock();
    sut = store(clock);
  });

  it('a mark drops the copy and voids the lease: a fill whose data was read before it is refused', () => {
    const lease = sut.issueLease('k', 3);
    expect(sut.put(write(sut, 'k', 1))).toBe('stored');
    expect(sut.markPending('k', 3, 'm', 5000)).toEqual({ removed: true, ms: 5000 });
    expect(sut.table.peek('k')).toBeUndefined();
    expect(sut.fill(write(sut, 'k', 1), lease)).toBe('pending');
  });

  it('while pending: no lease, and fills, puts and imports are all refused', () => {
    sut.markPending('k', 3, 'm', 5000);
    expect(sut.leaseUnlessPending('k', 3)).toBeUndefined();
    expect(sut.put(write(sut, 'k', 9))).toBe('pending');
    expect(sut.import(write(sut, 'k', 9))).toBe('pending');
    expect(sut.table.size).toBe(0);
  });

  it('a release with the committed version ends the mark and refuses anything older from then on', () => {
    sut.markPending('k', 3, 'm', 5000);
    sut.release('k', 3, 'm', 7);
    expect(sut.put(write(sut, 'k', 6))).toBe('tombstone');
    const lease = sut.leaseUnlessPending('k', 3)!;
    expect(sut.fill(write(sut, 'k', 6), lease)).toBe('tombstone');
    const again = sut.leaseUnlessPending('k', 3)!;
    expect(sut.fill(write(sut, 'k', 7), again)).toBe('stored');
  });

  it("an original's variants go with its mark and stay pending with it (the release is not waited for)", () => {
    const thumb = variantKey('k', '320x320-cover-webp-q80');
    const lease = sut.issueLease(thumb, 3);
    expect(sut.put(write(sut, thumb, 1))).toBe('stored');
    sut.markPending('k', 3, 'm', 5000);
    // The upload is acknowledged before its release reaches the node: no old variant meanwhile.
    expect(sut.table.peek(thumb)).toBeUndefined();
    expect(sut.fill(write(sut, thumb, 1), lease)).not.toBe('stored');
    expect(sut.leaseUnlessPending(thumb, 3)).toBeUndefined();
    expect(sut.put(write(sut, thumb, 1))).toBe('pending');
  });

  it('a release without a version (the commit failed) only ends the mark', () => {
    sut.markPending('k', 3, 'm', 5000);
    sut.release('k', 3, 'm', undefined);
    expect(sut.put(write(sut, 'k', 1))).toBe('stored');
  });

  it('an uploader that dies: the mark runs out and fills resume (they read after its commit)', () => {
    sut.markPending('k', 3, 'm', 5000);
    clock.time += 5000;
    const lease = sut.leaseUnlessPending('k', 3);
    expect(lease).toBeDefined();
    expect(sut.fill(write(sut, 'k', 2), lease!)).toBe('stored');
  });

  it('a clear keeps the marks of uploads in flight; delete_all marks every region', () => {
    sut.markPending('k', 3, 'm', 5000);
    sut.clear();
    expect(sut.leaseUnlessPending('k', 3)).toBeUndefined();
    expect(sut.put(write(sut, 'j', 1))).toBe('stored');
    sut.markAllPending([3], 'all', 5000);
    expect(sut.table.size).toBe(0);
    expect(sut.put(write(sut, 'j', 2))).toBe('pending');
    sut.pending.releaseRegions('all');
    expect(sut.put(write(sut, 'j', 2))).toBe('stored');
  });
});
