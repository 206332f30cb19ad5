import { CacheNodeRequestError } from '../../../src/pool/client/cache-node.client';
import { raw, startNode, value, type RunningNode } from './node-fixtures';

const ALL = [...Array(16).keys()];

describe('cache node over real sockets: ownership', () => {
  let running: RunningNode;

  beforeAll(async () => {
    running = await startNode();
  });
  afterAll(() => running.stop());

  it('a fresh node (or one restarted) owns nothing at epoch 0: every key is not its own until told', async () => {
    const fresh = await startNode({ owning: false });
    try {
      expect(await fresh.client.health()).toEqual({
        status: 'ok',
        epoch: 0,
        regions: [],
        nearLeaseMs: 3000,
        boot: expect.stringMatching(/^[0-9a-f]{16}$/),
      });
      expect(await fresh.client.get('k', 3, 0)).toEqual({ kind: 'not_owner', epoch: 0, region: 3 });
      expect(await fresh.client.invalidate('k', 3, 2, 0)).toEqual({
        kind: 'not_owner',
        epoch: 0,
        region: 3,
      });
      await fresh.client.setOwnership(1, ALL);
      expect((await fresh.client.get('k', 3, 1)).kind).toBe('miss');
    } finally {
      await fresh.stop();
    }
  });

  it('answers 421 with its epoch for a region it does not own, for every key method', async () => {
    const { client, node } = running;
    await client.put('mine', 3, value(10), { version: 1 });
    await client.put('theirs', 9, value(10), { version: 1 });
    expect(await client.setOwnership(1, [0, 1, 2, 3])).toEqual({ epoch: 1, regions: [0, 1, 2, 3] });

    const get = await raw(node.url, 'GET', '/v1/keys/theirs?region=9', {
      headers: { 'x-pixpool-epoch': '0' },
    });
    expect(get.status).toBe(421);
    expect(get.json).toEqual({ error: 'not_owner', epoch: 1, region: 9 });
    expect(get.headers['x-pixpool-epoch']).toBe('1');
    expect(await client.get('theirs', 9, 0)).toEqual({ kind: 'not_owner', epoch: 1, region: 9 });
    expect(await client.put('new', 9, value(10), { version: 1 }, 0)).toEqual({
      kind: 'not_owner',
      epoch: 1,
      region: 9,
    });
    expect(await client.invalidate('theirs', 9, 2, 0)).toEqual({
      kind: 'not_owner',
      epoch: 1,
      region: 9,
    });
    expect(await client.get('mine', 3, 1)).toMatchObject({ kind: 'hit', epoch: 1 });
    // Every key answer names the node's epoch, a miss included.
    expect((await raw(node.url, 'GET', '/v1/keys/other?region=2')).headers['x-pixpool-epoch']).toBe(
      '1',
    );
  });

  it('refuses an ownership older than its own epoch', async () => {
    const error = await running.client.setOwnership(0, ALL).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(CacheNodeRequestError);
    expect(error).toMatchObject({ status: 409, code: 'stale_epoch' });
    expect((await running.client.getOwnership()).epoch).toBe(1);
  });

  it('gaining a region back starts clean: entries left from an earlier tenure are gone', async () => {
    const { client } = running;
    await client.setOwnership(2, ALL);
    expect((await client.get('theirs', 9)).kind).toBe('miss');
    expect((await client.get('mine', 3)).kind).toBe('hit'); // region 3 was never given up
  });
});

describe('cache node over real sockets: region transfer', () => {
  let a: RunningNode;
  let b: RunningNode;

  beforeAll(async () => {
    [a, b] = await Promise.all([
      startNode({ secret: 'pool-secret' }),
      startNode({ secret: 'pool-secret' }),
    ]);
  });
  afterAll(() => Promise.all([a.stop(), b.stop()]));

  it('streams only to a member of the pool the app named with the ownership, never elsewhere', async () => {
    const elsewhere = await startNode({ secret: 'pool-secret' });
    try {
      await a.client.put('secret-image', 5, value(9), { version: 3 });
      await a.client.setOwnership(
        1,
        ALL.filter((r) => r !== 5),
        0,
        [a.node.url, b.node.url],
      );
      const refused = await a.client
        .transfer([5], elsewhere.node.url, 1)
        .catch((err: unknown) => err);
      expect(refused).toMatchObject({ status: 403, code: 'not_member' });
      expect((await elsewhere.client.stats()).items).toBe(0);
    } finally {
      await elsewhere.stop();
      await a.client.setOwnership(1, ALL, 0, [a.node.url, b.node.url]);
    }
  });

  it('moves every entry of the given regions, keeps newer versions at the target, then drops them', async () => {
    const moved = new Map<string, Buffer>();
    for (let i = 0; i < 60; i++) {
      const region = 2 + (i % 3); // regions 2, 3, 4
      const bytes = value(1 + ((i * 7919) % 70_000), i);
      await a.client.put(`img-${i}`, region, bytes, {
        version: 100 + i,
        contentType: i % 2 ? 'image/png' : 'image/jpeg',
      });
      if (region !== 4) moved.set(`img-${i}`, bytes);
    }
    // The target already has a newer copy of one key and knows another was re-uploaded.
    await b.client.put('img-0', 2, value(5, 9), { version: 1_000 });
    await b.client.invalidate('img-1', 3, 500);
    // A key the sender was told to invalidate after it gave the region up (a front-end with an
    // old assignment): the sender drops it and ships the tombstone, so B drops its old copy too.
    await b.client.put('late', 2, value(5), { version: 1 });
    await a.client.put('late', 2, value(5), { version: 1 });
    // An upload about to commit a key of a moving region: its mark moves with the region.
    await b.client.put('busy', 3, value(5), { version: 1 });
    await a.client.markPending('busy', 3, { id: 'up9', ms: 20_000 });

    await a.client.setOwnership(
      1,
      ALL.filter((r) => r !== 2 && r !== 3),
    );
    await b.client.setOwnership(1, [2, 3]);
    expect(await a.client.invalidate('late', 2, 7, 0)).toMatchObject({ kind: 'not_owner' });
    const result = await a.client.transfer([2, 3], b.node.url, 1);

    expect(result).toMatchObject({
      entries: 40,
      tombstones: 1,
      target: { imported: 38, refused: 2, tombstones: 1 },
    });
    for (const [k, bytes] of moved) {
      const region = 2 + (Number(k.slice(4)) % 3);
      const got = await b.client.get(k, region, 1);
      if (k === 'img-0') expect(got).toMatchObject({ kind: 'hit', version: 1_000 });
      else if (k === 'img-1') expect(got.kind).toBe('miss');
      else {
        expect(got.kind === 'hit' && got.value.equals(bytes)).toBe(true);
        expect(got).toMatchObject({ version: 100 + Number(k.slice(4)) });
      }
    }
    expect((await b.client.get('late', 2)).kind).toBe('miss');
    expect(await b.client.get('busy', 3)).toMatchObject({ kind: 'pending' });
    await b.client.release('busy', 3, 'up9', 2);
    expect((await b.client.get('busy', 3)).kind).toBe('miss');
    const sender = await a.client.stats();
    expect(sender.items).toBe(20); // region 4 only
    expect((await a.client.get('img-2', 4)).kind).toBe('hit');
  });

  it('refuses to send regions the sender still owns', async () => {
    const error = await a.client.transfer([4], b.node.url, 1).catch((err: unknown) => err);
    expect(error).toMatchObject({ status: 409, code: 'still_owner' });
    expect((await a.client.stats()).items).toBe(20);
  });

  it('fails (and keeps its entries) when the target is at another epoch or down', async () => {
    // A member that is down (the transfer fails, not refused).
    await a.client.setOwnership(2, [], 0, [a.node.url, b.node.url, 'http://127.0.0.1:9']);
    const stale = await a.client.transfer([4], b.node.url, 2).catch((err: unknown) => err);
    expect(stale).toMatchObject({ status: 502, code: 'transfer_failed' });
    expect(String((stale as Error).message)).toContain('stale_epoch');
    const down = await a.client.transfer([4], 'http://127.0.0.1:9', 2).catch((err: unknown) => err);
    expect(down).toMatchObject({ status: 502, code: 'transfer_failed' });
    expect((await a.client.stats()).items).toBe(20);
  });

  it('streams regions far larger than the socket buffers, byte for byte', async () => {
    const [c, d] = await Promise.all([
      startNode({ secret: 'pool-secret' }),
      startNode({ secret: 'pool-secret' }),
    ]);
    try {
      const values = Array.from({ length: 48 }, (_, i) => value(512 * 1024, i));
      for (let i = 0; i < values.length; i++)
        await c.client.put(`big${i}`, 8, values[i], { version: 1 });
      await c.client.setOwnership(1, [], 0, [c.node.url, d.node.url]);
      await d.client.setOwnership(1, [8]);
      expect(await c.client.transfer([8], d.node.url, 1)).toMatchObject({
        entries: 48,
        bytes: 48 * 512 * 1024,
      });
      for (let i = 0; i < values.length; i++) {
        const got = await d.client.get(`big${i}`, 8);
        expect(got.kind === 'hit' && got.value.equals(values[i])).toBe(true);
      }
      expect((await c.client.stats()).items).toBe(0);
    } finally {
      await Promise.all([c.stop(), d.stop()]);
    }
  });

  it('drops regions on request', async () => {
    expect(await a.client.drop([4, 5])).toMatchObject({ entries: 20 });
    expect((await a.client.stats()).items).toBe(0);
  });
});
