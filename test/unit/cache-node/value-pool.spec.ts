import { blockBytes, largestFitting, ValuePool } from '../../../src/cache-node/value-pool';
import { makeStore, write } from './store-fixtures';

describe('value blocks', () => {
  it('rounds to 64-byte steps up to 512 B, then to eighths of each doubling', () => {
    expect(
      [0, 1, 64, 65, 512, 513, 600, 1000, 1024, 1025, 4096, 65_536, 65_537, 100_000].map(
        blockBytes,
      ),
    ).toEqual([0, 64, 64, 128, 512, 576, 640, 1024, 1024, 1152, 4096, 65_536, 73_728, 106_496]);
  });

  it('wastes at most 12.5 % above 512 bytes', () => {
    for (let n = 513; n < 300_000; n += 997) expect(blockBytes(n) / n).toBeLessThanOrEqual(1.125);
  });

  it('finds the largest value that fits a budget', () => {
    for (const budget of [-1, 0, 63, 64, 600, 1000, 1024, 1025, 70_000, 1 << 20]) {
      const fits = largestFitting(budget);
      if (budget < 0) expect(fits).toBe(-1);
      else {
        expect(blockBytes(fits)).toBeLessThanOrEqual(budget);
        expect(blockBytes(fits + 1)).toBeGreaterThan(budget);
      }
    }
  });
});

describe('ValuePool', () => {
  it('hands a released block out again for a value of the same class', () => {
    const sut = new ValuePool(1 << 20);
    const first = sut.acquire(1000);
    expect(first.length).toBe(1000);
    expect(first.buffer.byteLength).toBe(1024);
    sut.release(first);
    expect(sut.pooledBytes).toBe(1024);
    const second = sut.acquire(990);
    expect(second.buffer).toBe(first.buffer);
    expect(sut.pooledBytes).toBe(0);
    expect(sut.acquire(1000).buffer).not.toBe(first.buffer);
  });

  it('ignores buffers it did not make, and a second release of the same block', () => {
    const sut = new ValuePool(1 << 20);
    sut.release(Buffer.alloc(4096));
    expect(sut.pooledBytes).toBe(0);
    const value = sut.acquire(4096);
    sut.release(value);
    sut.release(value);
    expect(sut.pooledBytes).toBe(4096);
    expect(sut.acquire(4096).buffer).toBe(value.buffer);
    expect(sut.acquire(4096).buffer).not.toBe(value.buffer);
  });

  it('keeps at most maxPooledBytes, dropping older classes for newer blocks', () => {
    const sut = new ValuePool(10_000);
    for (let i = 0; i < 4; i++) sut.release(sut.acquire(4096));
    expect(sut.pooledBytes).toBe(4096);
    const blocks = [sut.acquire(4096), sut.acquire(4096), sut.acquire(4096)];
    blocks.forEach((b) => sut.release(b));
    expect(sut.pooledBytes).toBe(8192);
    sut.release(sut.acquire(2048));
    expect(sut.pooledBytes).toBeLessThanOrEqual(10_000);
    sut.setMaxPooledBytes(0);
    expect(sut.pooledBytes).toBe(0);
  });
});

describe('store and value blocks', () => {
  it('does not recycle a block while a reader is writing it, and does once it is done', () => {
    const sut = makeStore({ entries: 10 });
    const value = sut.table.acquireValue(100);
    value.fill(7);
    expect(sut.put({ ...write('a'), value })).toBe('stored');
    const entry = sut.table.peek('a');
    if (!entry) throw new Error('stored entry missing');
    sut.table.beginRead(entry);
    sut.invalidate('a', 0, 2);
    expect(sut.table.pooledBytes).toBe(0);
    const other = sut.table.acquireValue(100);
    expect(other.buffer).not.toBe(value.buffer);
    other.fill(1);
    expect(value.every((b) => b === 7)).toBe(true);
    sut.table.endRead(entry);
    expect(sut.table.pooledBytes).toBe(128);
    expect(sut.table.acquireValue(100).buffer).toBe(value.buffer);
  });

  it('recycles the block of a refused write', () => {
    const sut = makeStore();
    sut.put(write('a', 5));
    const value = sut.table.acquireValue(100);
    expect(sut.put({ ...write('a', 4), value })).toBe('version');
    expect(sut.table.pooledBytes).toBe(128);
  });
});
