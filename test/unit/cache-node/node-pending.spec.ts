import { eventually } from '../../support/eventually';
import { raw, startNode, value, type RunningNode } from './node-fixtures';
import { subscriber } from './subscriber-fixture';

const REGION = 5;

describe('cache node over real sockets: pending keys (invalidate before commit)', () => {
  let running: RunningNode;
  beforeAll(async () => {
    running = await startNode();
  });
  afterAll(() => running.stop());

  it('a pending key: copy gone, misses without lease, fills refused; the release raises the floor', async () => {
    const sut = running.client;
    await sut.put('k', REGION, value(64, 1), { version: 1, contentType: 'image/png' });
    expect((await sut.get('k', REGION)).kind).toBe('hit');
    await sut.invalidate('j', REGION, 1);
    const before = await sut.get('j', REGION);
    const missLease = before.kind === 'miss' ? before.lease : '';

    expect(await sut.markPending('k', REGION, { id: 'up1', ms: 5000 })).toMatchObject({
      kind: 'marked',
      removed: true,
      ms: 5000,
    });
    expect(await sut.markPending('j', REGION, { id: 'up2', ms: 5000 })).toMatchObject({
      removed: false,
    });
    expect(await sut.get('k', REGION)).toMatchObject({ kind: 'pending' });
    // A reader that got its lease before the mark read the old row: its fill must not land.
    expect(
      await sut.put('j', REGION, value(64, 1), { version: 1, lease: missLease }),
    ).toMatchObject({ kind: 'stale', reason: 'pending' });
    expect(await sut.put('k', REGION, value(64, 2), { version: 2 })).toMatchObject({
      kind: 'stale',
      reason: 'pending',
    });

    expect(await sut.release('k', REGION, 'up1', 3)).toMatchObject({ kind: 'invalidated' });
    const miss = await sut.get('k', REGION);
    expect(miss.kind).toBe('miss');
    const fresh = miss.kind === 'miss' ? miss.lease : '';
    expect(await sut.put('k', REGION, value(64, 2), { version: 2, lease: fresh })).toMatchObject({
      kind: 'stale',
      reason: 'tombstone',
    });
    // j's upload failed before its commit: released without a version, it fills again.
    await sut.release('j', REGION, 'up2', undefined);
    expect((await sut.get('j', REGION)).kind).toBe('miss');
  });

  it('near-cache subscribers go pending before the mark is answered, and are told the release', async () => {
    const sut = running.client;
    const near = subscriber(running.node.url);
    near.subscription.connect();
    near.subscription.want([REGION]);
    await eventually('the lease', () => near.events.includes('granted'));

    await sut.markPending('p', REGION, { id: 'up3', ms: 5000 });
    expect(near.events).toContain('pend p up3');
    await sut.release('p', REGION, 'up3', 4);
    await eventually('the release', () => near.events.includes('rel p up3 v4'));

    // delete_all: every key pending, then released.
    expect(await sut.clearPending({ id: 'all1', ms: 5000 })).toMatchObject({ ms: 5000 });
    expect(near.events).toContain('pend all all1');
    expect(await sut.get('q', REGION)).toMatchObject({ kind: 'pending' });
    await sut.releaseAll('all1');
    await eventually('the release of all', () => near.events.includes('rel all all1 v-'));
    expect((await sut.get('q', REGION)).kind).toBe('miss');
    near.subscription.close(true);
  });

  it('refuses malformed marks with 400 and writes nothing', async () => {
    const url = running.node.url;
    for (const query of [
      'pending=UP&ms=10',
      'pending=ok',
      'pending=ok&ms=0',
      'pending=a&release=a',
    ])
      expect((await raw(url, 'DELETE', `/v1/keys/z?region=1&${query}`)).status).toBe(400);
    expect((await raw(url, 'DELETE', '/v1/keys?pending=a')).status).toBe(400);
    expect((await running.client.get('z', 1)).kind).toBe('miss');
  });
});
