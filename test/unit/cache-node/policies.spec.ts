import { ENTRY_BYTES, key, keysOf, makeStore, seeded, write } from './store-fixtures';

describe('replacement policies (store in process)', () => {
  it('LRU evicts exactly the least recently used entry', () => {
    const sut = makeStore({ entries: 4, policy: 'lru' });
    for (let i = 0; i < 4; i++) sut.put(write(key(i)));
    sut.table.get(key(0));
    sut.table.get(key(2));
    sut.put(write(key(4))); // evicts k01, the least recently used
    sut.put(write(key(5))); // then k03
    expect(keysOf(sut, 6)).toEqual([key(0), key(2), key(4), key(5)]);
    sut.table.get(key(0));
    sut.put(write(key(6))); // k02 is now the oldest use
    expect(keysOf(sut, 7)).toEqual([key(0), key(4), key(5), key(6)]);
    expect(sut.table.evictions).toBe(3);
  });

  it('an overwrite counts as a use under LRU and does not evict', () => {
    const sut = makeStore({ entries: 3, policy: 'lru' });
    for (let i = 0; i < 3; i++) sut.put(write(key(i)));
    sut.put(write(key(0), 2));
    sut.put(write(key(3)));
    expect(keysOf(sut, 4)).toEqual([key(0), key(2), key(3)]);
  });

  it('random evicts uniformly, whatever was used recently', () => {
    const evictedCounts = new Array<number>(10).fill(0);
    const random = seeded(42);
    for (let round = 0; round < 2000; round++) {
      const sut = makeStore({ entries: 10, policy: 'random', random });
      for (let i = 0; i < 10; i++) sut.put(write(key(i)));
      for (let i = 0; i < 5; i++) sut.table.get(key(0)); // recency must not matter
      sut.put(write(key(10)));
      const evicted = [...Array(10).keys()].filter((i) => !sut.table.peek(key(i)));
      expect(evicted).toHaveLength(1);
      evictedCounts[evicted[0]]++;
    }
    // Each of the 10 is expected 200 times; a chi-square over 9 degrees of freedom above 27.9
    // would happen by chance with p < 0.001.
    const chiSquare = evictedCounts.reduce((sum, n) => sum + (n - 200) ** 2 / 200, 0);
    expect(chiSquare).toBeLessThan(27.9);
    expect(Math.min(...evictedCounts)).toBeGreaterThan(0);
  });

  it('SIEVE spares visited entries once and evicts the oldest unvisited, as in the paper', () => {
    const sut = makeStore({ entries: 4, policy: 'sieve' });
    for (let i = 0; i < 4; i++) sut.put(write(key(i)));
    sut.table.get(key(0));
    sut.table.get(key(1));
    sut.put(write(key(4))); // hand from the oldest: k00, k01 visited → cleared; k02 evicted
    expect(keysOf(sut, 5)).toEqual([key(0), key(1), key(3), key(4)]);
    sut.put(write(key(5))); // hand continues at k03 (unvisited) → evicted
    expect(keysOf(sut, 6)).toEqual([key(0), key(1), key(4), key(5)]);
    sut.table.get(key(4));
    sut.put(write(key(6))); // hand moved on to k04: visited → spared, then k05 → evicted
    expect(keysOf(sut, 7)).toEqual([key(0), key(1), key(4), key(6)]);
    // The hand passed the newest entry when k05 went, so it restarts at the oldest: k00.
    sut.put(write(key(7)));
    expect(keysOf(sut, 8)).toEqual([key(1), key(4), key(6), key(7)]);
  });

  it('SIEVE keeps a re-used set through scans that flush it out of LRU', () => {
    const hits = { lru: 0, sieve: 0 };
    const use = (sut: ReturnType<typeof makeStore>, policy: 'lru' | 'sieve', k: string): void => {
      if (sut.table.get(k)) hits[policy]++;
      else sut.put(write(k));
    };
    for (const policy of ['lru', 'sieve'] as const) {
      const sut = makeStore({ entries: 20, policy });
      for (let round = 0; round < 50; round++) {
        // Five keys used twice a round, one-hit-wonder scans between: 24 other keys between the
        // last use of a round and the first of the next, more than LRU's 20 slots.
        for (let hot = 0; hot < 5; hot++) use(sut, policy, `hot${hot}`);
        for (let scan = 0; scan < 5; scan++) use(sut, policy, `a${round}-${scan}`);
        for (let hot = 0; hot < 5; hot++) use(sut, policy, `hot${hot}`);
        for (let scan = 0; scan < 20; scan++) use(sut, policy, `b${round}-${scan}`);
      }
    }
    expect(hits.lru).toBe(250); // only the second use of each round
    expect(hits.sieve).toBeGreaterThan(450);
  });

  it('switching policy keeps every entry and the eviction order where it is defined', () => {
    const sut = makeStore({ entries: 4, policy: 'lru' });
    for (let i = 0; i < 4; i++) sut.put(write(key(i)));
    sut.table.get(key(0));
    sut.table.setPolicy('random');
    sut.table.setPolicy('sieve');
    sut.table.setPolicy('lru');
    expect(sut.table.size).toBe(4);
    expect(sut.table.policyName).toBe('lru');
    sut.table.setPolicy('sieve');
    sut.put(write(key(4))); // FIFO order rebuilt from LRU order: k01 is the oldest, unvisited
    expect(keysOf(sut, 5)).toEqual([key(0), key(2), key(3), key(4)]);
  });

  it.each(['lru', 'random', 'sieve'] as const)(
    '%s never exceeds capacity and accounts bytes exactly',
    (policy) => {
      const random = seeded(7);
      const sut = makeStore({ entries: 20, policy, random });
      for (let step = 0; step < 5000; step++) {
        const k = `key-${Math.floor(random() * 200)}`;
        const roll = random();
        if (roll < 0.5) sut.put(write(k, step, Math.floor(random() * 3000)));
        else if (roll < 0.8) sut.table.get(k);
        else if (roll < 0.9) sut.invalidate(k, 0, step);
        else if (roll < 0.95) sut.table.setCapacity(Math.floor(random() * 40) * ENTRY_BYTES);
        else sut.table.setPolicy((['lru', 'random', 'sieve'] as const)[Math.floor(random() * 3)]);
        expect(sut.table.bytesUsed).toBeLessThanOrEqual(sut.table.capacityBytes);
      }
      let sum = 0;
      for (const entry of sut.table.ofRegions(new Set([0]))) sum += entry.size;
      expect(sut.table.bytesUsed).toBe(sum);
    },
  );

  it('refuses a value larger than the capacity without evicting anything', () => {
    const sut = makeStore({ entries: 3 });
    for (let i = 0; i < 3; i++) sut.put(write(key(i)));
    expect(sut.put(write('big', 1, 3 * ENTRY_BYTES))).toBe('too_large');
    expect(sut.table.size).toBe(3);
    expect(sut.table.evictions).toBe(0);
  });

  it('shrinking the capacity evicts down to it at once, in policy order', () => {
    const sut = makeStore({ entries: 5, policy: 'lru' });
    for (let i = 0; i < 5; i++) sut.put(write(key(i)));
    sut.table.get(key(0));
    expect(sut.table.setCapacity(2 * ENTRY_BYTES)).toBe(3);
    expect(keysOf(sut, 5)).toEqual([key(0), key(4)]);
    expect(sut.table.bytesUsed).toBe(2 * ENTRY_BYTES);
  });
});
