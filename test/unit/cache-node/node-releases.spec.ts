import { NodeTransport } from '../../../src/pool/client/cache-node-transport';
import { eventually } from '../../support/eventually';
import { ALL_REGIONS, raw, startNode, value, type RunningNode } from './node-fixtures';
import { SUBSCRIBER_ID, subscriber } from './subscriber-fixture';

const REGION = 5;
const MARK_MS = 30_000;

/** How many HTTP requests the client sends from now on. */
function countRequests(running: RunningNode): () => number {
  const transport = (running.client as unknown as { transport: NodeTransport }).transport;
  const send = jest.spyOn(transport, 'send');
  const before = send.mock.calls.length;
  return () => send.mock.calls.length - before;
}

describe('cache node over real sockets: releases sent together (POST /v1/releases)', () => {
  let running: RunningNode;
  beforeAll(async () => {
    running = await startNode();
  });
  afterAll(() => running.stop());

  it('releases that queue while one is in flight leave in one request, each ending its mark', async () => {
    const sut = running.client;
    const keys = Array.from({ length: 20 }, (_, i) => `burst-${i}`);
    for (const key of keys)
      await sut.markPending(key, REGION, { id: `m${key.slice(6)}`, ms: MARK_MS });
    expect(await sut.get(keys[0], REGION)).toMatchObject({ kind: 'pending' });

    const requests = countRequests(running);
    const answers = await Promise.all(keys.map((key, i) => sut.release(key, REGION, `m${i}`, 7)));
    expect(answers.every((a) => a.kind === 'invalidated')).toBe(true);
    // The first alone, the 19 that queued behind it together.
    expect(requests()).toBe(2);

    for (const key of keys) {
      const miss = await sut.get(key, REGION);
      expect(miss.kind).toBe('miss'); // no longer pending: a fill lease again
      const lease = miss.kind === 'miss' ? miss.lease : '';
      // The tombstone of version 7 refuses an older fill, as a release alone leaves it.
      expect(await sut.put(key, REGION, value(8, 1), { version: 6, lease })).toMatchObject({
        kind: 'stale',
        reason: 'tombstone',
      });
    }
  });

  it('answers each item: not_owner where the node does not own the region, applied all the same', async () => {
    const node = await startNode({ owning: false });
    try {
      await node.client.setOwnership(
        1,
        ALL_REGIONS.filter((r) => r !== 3),
      );
      await node.client.markPending('a', 3, { id: 'ma', ms: MARK_MS });
      await node.client.markPending('b', 4, { id: 'mb', ms: MARK_MS });
      const answer = await raw(node.node.url, 'POST', '/v1/releases', {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          releases: [
            { key: 'a', region: 3, id: 'ma', version: 2 },
            { key: 'b', region: 4, id: 'mb' },
          ],
        }),
      });
      expect(answer.status).toBe(200);
      expect(answer.json).toEqual({
        results: [{ error: 'not_owner', epoch: 1, region: 3 }, { removed: false }],
      });
      await node.client.setOwnership(2, ALL_REGIONS);
      expect((await node.client.get('a', 3)).kind).toBe('miss');
      expect((await node.client.get('b', 4)).kind).toBe('miss');
    } finally {
      await node.stop();
    }
  });

  it('tells subscribers each release, except the uploader named by near', async () => {
    const sut = running.client;
    const near = subscriber(running.node.url);
    near.subscription.connect();
    near.subscription.want([REGION]);
    await eventually('the lease', () => near.events.includes('granted'));
    await sut.markPending('s1', REGION, { id: 's1', ms: MARK_MS });
    await sut.markPending('s2', REGION, { id: 's2', ms: MARK_MS });
    await sut.markPending('s3', REGION, { id: 's3', ms: MARK_MS });

    const requests = countRequests(running);
    await Promise.all([
      sut.release('s1', REGION, 's1', 3),
      sut.release('s2', REGION, 's2', 4),
      sut.release('s3', REGION, 's3', 5, SUBSCRIBER_ID),
    ]);
    expect(requests()).toBe(3); // the third names another uploader: not in the second's batch
    await eventually('both releases', () => near.events.includes('rel s2 s2 v4'));
    expect(near.events).toContain('rel s1 s1 v3');
    expect(near.events.join()).not.toContain('rel s3');
    near.subscription.close(true);
  });

  it('refuses a malformed body with a 400 and applies none of it', async () => {
    const url = running.node.url;
    await running.client.markPending('kept', REGION, { id: 'kept', ms: MARK_MS });
    const good = { key: 'kept', region: REGION, id: 'kept', version: 1 };
    const bodies: unknown[] = [
      'not json',
      {},
      { releases: [] },
      { releases: Array.from({ length: 257 }, () => good) },
      { releases: [good, { key: '', region: REGION, id: 'x' }] },
      { releases: [good, { key: 'k'.repeat(1025), region: REGION, id: 'x' }] },
      { releases: [good, { key: 'k', region: 16, id: 'x' }] },
      { releases: [good, { key: 'k', region: REGION, id: 'UP' }] },
      { releases: [good, { key: 'k', region: REGION, id: 'x', version: -1 }] },
      { releases: [good, { key: 'k', region: REGION, id: 'x', version: 1.5 }] },
      { releases: [good], near: 'not-hex' },
      { releases: [good, 'k'] },
    ];
    for (const body of bodies) {
      const answer = await raw(url, 'POST', '/v1/releases', {
        headers: { 'content-type': 'application/json' },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      expect(answer.status).toBe(400);
      expect(answer.json).toMatchObject({ error: 'bad_request' });
    }
    expect(await running.client.get('kept', REGION)).toMatchObject({ kind: 'pending' });
    expect((await raw(url, 'GET', '/v1/releases')).status).toBe(405);
  });
});
