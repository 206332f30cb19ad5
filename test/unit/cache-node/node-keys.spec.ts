import { blockBytes } from '../../../src/cache-node/value-pool';
import type { CacheNodeClient } from '../../../src/pool/client/cache-node.client';
import { raw, startNode, value, type RunningNode } from './node-fixtures';

/** Keys 'k00'.. with 1 KiB 'image/png' values (a block size): each costs 3 + 9 + 1024 + overhead. */
const VALUE_BYTES = 1024;
const TYPE = 'image/png';
const key = (i: number): string => `k${String(i).padStart(2, '0')}`;

describe('cache node over real sockets: keys, policies, capacity, config, stats', () => {
  let running: RunningNode;
  let sut: CacheNodeClient;
  let entryBytes: number;

  beforeAll(async () => {
    running = await startNode({ capacityMb: 1 });
    sut = running.client;
    entryBytes = 3 + TYPE.length + VALUE_BYTES + (await sut.stats()).entryOverheadBytes;
  });
  afterAll(() => running.stop());
  beforeEach(() => sut.clear());

  async function fill(count: number, from = 0): Promise<void> {
    for (let i = from; i < from + count; i++) {
      expect(
        await sut.put(key(i), 0, value(VALUE_BYTES, i), { version: 1, contentType: TYPE }),
      ).toMatchObject({ kind: 'stored' });
    }
  }

  async function present(count: number): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < count; i++) {
      const res = await raw(running.node.url, 'GET', `/v1/keys/${key(i)}?region=0`);
      if (res.status === 200) out.push(key(i));
    }
    return out;
  }

  it('stores and returns opaque bytes with their content type and version', async () => {
    const bytes = Buffer.from(Array.from({ length: 256 * 4 }, (_, i) => i % 256));
    const name = 'photos/2024 été/#1?.png';
    await sut.put(name, 9, bytes, { version: 1_700_000_000_000_001, contentType: 'image/webp' });
    const hit = await sut.get(name, 9, 1);
    expect(hit).toEqual({
      kind: 'hit',
      value: bytes,
      contentType: 'image/webp',
      version: 1_700_000_000_000_001,
      epoch: 1,
    });
    const res = await raw(running.node.url, 'GET', `/v1/keys/${encodeURIComponent(name)}?region=9`);
    expect(res.headers['x-pixpool-epoch']).toBe('1');
    expect(res.headers['content-length']).toBe(String(bytes.length));
    expect(res.body.equals(bytes)).toBe(true);
  });

  it('LRU evicts in exact least-recently-used order', async () => {
    await sut.setConfig({ capacityBytes: 5 * entryBytes, policy: 'lru' });
    await fill(5);
    await sut.get(key(0), 0);
    await sut.get(key(1), 0);
    await fill(2, 5); // evicts k02, k03
    await sut.get(key(4), 0);
    await fill(1, 7); // evicts k00: k01, k05, k06 and k04 were used after it
    expect(await present(8)).toEqual([key(1), key(4), key(5), key(6), key(7)]);
  });

  it('random picks its victims uniformly (chi-square over 150 evictions)', async () => {
    await sut.setConfig({ capacityBytes: 5 * entryBytes, policy: 'random' });
    const evicted = new Array<number>(5).fill(0);
    for (let trial = 0; trial < 150; trial++) {
      await sut.clear();
      await fill(5);
      await sut.get(key(0), 0); // recency must not protect under random
      await fill(1, 5);
      const left = await present(5);
      expect(left).toHaveLength(4);
      evicted[[0, 1, 2, 3, 4].find((i) => !left.includes(key(i))) as number]++;
    }
    // 30 expected each; chi-square with 4 degrees of freedom above 18.5 has p < 0.001.
    const chiSquare = evicted.reduce((sum, n) => sum + (n - 30) ** 2 / 30, 0);
    expect(chiSquare).toBeLessThan(18.5);
  });

  it('never exceeds capacity under concurrent writers, and bytesUsed is the sum of entry sizes', async () => {
    const capacity = 40 * entryBytes;
    await sut.setConfig({ capacityBytes: capacity, policy: 'sieve' });
    let maxSeen = 0;
    const writer = async (w: number): Promise<void> => {
      for (let i = 0; i < 40; i++) {
        const size = (w * 7919 + i * 104_729) % (3 * VALUE_BYTES);
        await sut.put(`w${w}-${i % 25}`, 0, value(size, i), { version: i, contentType: TYPE });
        if (i % 10 === 0) maxSeen = Math.max(maxSeen, (await sut.stats()).bytesUsed);
      }
    };
    await Promise.all(Array.from({ length: 12 }, (_, w) => writer(w)));
    const stats = await sut.stats();
    expect(maxSeen).toBeLessThanOrEqual(capacity);
    expect(stats.bytesUsed).toBeLessThanOrEqual(capacity);
    expect(stats.sinceStart.evictions).toBeGreaterThan(0);
    let sum = 0;
    let items = 0;
    for (let w = 0; w < 12; w++) {
      for (let i = 0; i < 25; i++) {
        const k = `w${w}-${i}`;
        const res = await sut.get(k, 0);
        if (res.kind !== 'hit') continue;
        items++;
        sum +=
          Buffer.byteLength(k) +
          TYPE.length +
          blockBytes(res.value.length) +
          stats.entryOverheadBytes;
      }
    }
    expect(items).toBe(stats.items);
    expect(sum).toBe(stats.bytesUsed);
  });

  it('applies a smaller capacity at once and a policy change live', async () => {
    await sut.setConfig({ capacityBytes: 10 * entryBytes, policy: 'random' });
    await fill(10);
    const before = await sut.stats();
    expect(await sut.setConfig({ capacityBytes: 3 * entryBytes, policy: 'lru' })).toEqual({
      capacityBytes: 3 * entryBytes,
      policy: 'lru',
    });
    const after = await sut.stats();
    expect(after.items).toBe(3);
    expect(after.bytesUsed).toBe(3 * entryBytes);
    expect(after.sinceStart.evictions - before.sinceStart.evictions).toBe(7);
    expect(await sut.getConfig()).toEqual({ capacityBytes: 3 * entryBytes, policy: 'lru' });
    // LRU from now on: the three survivors are used, the newcomer pushes out the least recent.
    const survivors = (await present(10)).map((k) => Number(k.slice(1)));
    await sut.get(key(survivors[1]), 0);
    await sut.get(key(survivors[2]), 0);
    await sut.get(key(survivors[0]), 0);
    await fill(1, 20);
    expect(await present(10)).toEqual([key(survivors[0]), key(survivors[2])]);
  });

  it('counts every request once, since start and per interval', async () => {
    await sut.setConfig({ capacityBytes: 1 << 20, policy: 'lru' });
    await sut.stats({ resetInterval: true });
    const start = (await sut.stats()).sinceStart;
    await fill(3); // 3 stored
    await sut.put(key(0), 0, value(10), { version: 0 }); // refused: older
    await sut.put('huge', 0, value(2 << 20), { version: 1 }); // too large
    await sut.get(key(0), 0); // hit
    await sut.get(key(1), 0); // hit
    await sut.get('nope', 0); // miss
    await sut.invalidate(key(2), 0, 5); // delete
    await sut.setOwnership(1, [0]);
    await sut.get('elsewhere', 3); // not owner
    await sut.setOwnership(2, [...Array(16).keys()]);

    const stats = await sut.stats({ resetInterval: true });
    const delta = Object.fromEntries(
      Object.entries(stats.sinceStart).map(([name, n]) => [
        name,
        n - start[name as keyof typeof start],
      ]),
    );
    const expected = {
      requests: 10,
      gets: 3,
      hits: 2,
      misses: 1,
      puts: 5,
      stored: 3,
      refused: 1,
      tooLarge: 1,
    };
    expect(delta).toMatchObject({ ...expected, deletes: 1, notOwner: 1, aborted: 0 });
    expect(stats.interval).toMatchObject({ ...expected, deletes: 1, notOwner: 1 });
    expect(stats.items).toBe(2);
    const next = await sut.stats();
    expect(next.interval).toMatchObject({ requests: 0, gets: 0, hits: 0, misses: 0 });
    expect(Date.parse(next.interval.startedAt)).toBeGreaterThanOrEqual(
      Date.parse(stats.interval.startedAt),
    );
  });
});
