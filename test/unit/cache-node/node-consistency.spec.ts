import type { CacheNodeClient } from '../../../src/pool/client/cache-node.client';
import { sleep, startNode, value, type RunningNode } from './node-fixtures';

/**
 * DESIGN.md: "no stale read after an acknowledged upload, even with concurrent readers filling the
 * cache". The app's protocol: read = GET, on a miss read the truth and PUT with the miss's lease;
 * upload = commit version v, then DELETE with v. Here the "truth" is a map in the test.
 */
describe('cache node over real sockets: stale fills never become readable', () => {
  let running: RunningNode;
  let sut: CacheNodeClient;

  beforeAll(async () => {
    running = await startNode({ capacityMb: 1 });
    sut = running.client;
  });
  afterAll(() => running.stop());

  it('read v1, upload v2, the slow fill of v1 arrives: refused, and v1 is never served', async () => {
    const miss = await sut.get('photo', 5);
    if (miss.kind !== 'miss') throw new Error(`expected a miss, got ${miss.kind}`);
    // Reader A has read v1 from storage and is slow. Upload of v2 commits and invalidates:
    expect(await sut.invalidate('photo', 5, 2)).toMatchObject({
      kind: 'invalidated',
      removed: false,
    });
    expect(
      await sut.put('photo', 5, value(100, 1), { version: 1, lease: miss.lease }),
    ).toMatchObject({
      kind: 'stale',
      reason: 'lease',
    });
    expect((await sut.get('photo', 5)).kind).toBe('miss');
  });

  it('the same race when v1 had been cached and then evicted', async () => {
    const first = await sut.get('evicted', 5);
    if (first.kind !== 'miss') throw new Error('expected a miss');
    await sut.put('evicted', 5, value(100, 1), { version: 1, lease: first.lease });
    // Push it out through capacity pressure.
    for (let i = 0; i < 40; i++) await sut.put(`filler${i}`, 5, value(50_000, i), { version: 1 });
    const again = await sut.get('evicted', 5);
    if (again.kind !== 'miss') throw new Error('expected the entry to be evicted');
    expect(await sut.invalidate('evicted', 5, 2)).toMatchObject({
      kind: 'invalidated',
      removed: false,
    });
    expect(
      (await sut.put('evicted', 5, value(100, 1), { version: 1, lease: again.lease })).kind,
    ).toBe('stale');
    // Put-if-newer without a lease (a transfer, a tool) is refused by the tombstone too.
    expect(await sut.put('evicted', 5, value(100, 1), { version: 1 })).toMatchObject({
      kind: 'stale',
      reason: 'tombstone',
    });
    expect((await sut.get('evicted', 5)).kind).toBe('miss');
    const fresh = await sut.get('evicted', 5);
    if (fresh.kind !== 'miss') throw new Error('expected a miss');
    expect(
      (await sut.put('evicted', 5, value(100, 2), { version: 2, lease: fresh.lease })).kind,
    ).toBe('stored');
    expect(await sut.get('evicted', 5)).toMatchObject({ kind: 'hit', version: 2 });
  });

  it('an invalidation drops a cached entry, and an older write never replaces a newer one', async () => {
    await sut.put('doc', 1, value(10, 3), { version: 3 });
    expect(await sut.put('doc', 1, value(10, 2), { version: 2 })).toMatchObject({
      kind: 'stale',
      reason: 'version',
    });
    expect(await sut.invalidate('doc', 1, 4)).toMatchObject({ kind: 'invalidated', removed: true });
    expect((await sut.get('doc', 1)).kind).toBe('miss');
  });

  it('holds under concurrent readers and uploaders (model check over 2 s)', async () => {
    const keys = ['a', 'b', 'c'];
    const truth = new Map(keys.map((k) => [k, 1]));
    /** Highest version whose upload was acknowledged (committed, then invalidated) per key. */
    const acked = new Map(keys.map((k) => [k, 0]));
    const violations: string[] = [];
    let hits = 0;
    let fills = 0;
    // At least 2 s, then on until both kinds of traffic were seen enough (a loaded machine is
    // slower), within 20 s.
    const started = Date.now();
    const running = (): boolean =>
      Date.now() - started < 2_000 ||
      ((hits <= 50 || fills <= 10) && Date.now() - started < 20_000);
    const pick = (): string => keys[Math.floor(Math.random() * keys.length)];

    const reader = async (): Promise<void> => {
      while (running()) {
        const k = pick();
        const mustSee = acked.get(k) as number;
        const res = await sut.get(k, 7);
        if (res.kind === 'hit') {
          hits++;
          if (res.version < mustSee)
            violations.push(`${k}: served v${res.version} after v${mustSee} was acknowledged`);
        } else if (res.kind === 'miss') {
          const version = truth.get(k) as number; // read the truth after the miss
          await sleep(Math.random() * 15); // a slow storage read
          const put = await sut.put(k, 7, value(64, version), { version, lease: res.lease });
          if (put.kind === 'stored') fills++;
        }
      }
    };
    const uploader = async (): Promise<void> => {
      while (running()) {
        const k = pick();
        const version = (truth.get(k) as number) + 1;
        truth.set(k, version); // committed
        await sleep(Math.random() * 3);
        const res = await sut.invalidate(k, 7, version);
        if (res.kind === 'invalidated') acked.set(k, Math.max(acked.get(k) as number, version));
        await sleep(Math.random() * 20);
      }
    };
    await Promise.all([
      ...Array.from({ length: 12 }, reader),
      ...Array.from({ length: 3 }, uploader),
    ]);
    expect(violations).toEqual([]);
    // The check saw real traffic of both kinds.
    expect(hits).toBeGreaterThan(50);
    expect(fills).toBeGreaterThan(10);
  });
});

describe('cache node over real sockets: leases and tombstones that time out stay safe', () => {
  let running: RunningNode;
  let sut: CacheNodeClient;

  beforeAll(async () => {
    running = await startNode({ args: ['--lease-ttl-ms', '150', '--tombstone-ttl-ms', '150'] });
    sut = running.client;
  });
  afterAll(() => running.stop());

  it('a fill after its lease expired is refused; the next read fills', async () => {
    const miss = await sut.get('slow', 2);
    if (miss.kind !== 'miss') throw new Error('expected a miss');
    await sleep(250);
    expect(await sut.put('slow', 2, value(10), { version: 1, lease: miss.lease })).toMatchObject({
      kind: 'stale',
      reason: 'lease',
    });
    const next = await sut.get('slow', 2);
    if (next.kind !== 'miss') throw new Error('expected a miss');
    expect(next.lease).not.toBe(miss.lease);
    expect((await sut.put('slow', 2, value(10), { version: 1, lease: next.lease })).kind).toBe(
      'stored',
    );
  });

  it('an older write is still refused after its tombstone expired', async () => {
    await sut.invalidate('gone', 3, 50);
    await sleep(250);
    expect((await sut.stats()).tombstones).toBe(0);
    expect(await sut.put('gone', 3, value(10), { version: 49 })).toMatchObject({
      kind: 'stale',
      reason: 'tombstone',
    });
    expect((await sut.get('gone', 3)).kind).toBe('miss');
  });
});
