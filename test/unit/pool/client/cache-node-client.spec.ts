import { createServer, type Server, type Socket, connect } from 'node:net';
import {
  CacheNodeClient,
  CacheNodeRequestError,
  CacheNodeUnavailableError,
} from '../../../../src/pool/client/cache-node.client';
import { spawnCacheNode, type SpawnedCacheNode } from '../../../support/spawn-cache-node';

/** A TCP relay in front of the node that counts the connections clients open. */
async function countingRelay(
  port: number,
): Promise<{ url: string; connections: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server = createServer((inbound) => {
    connections++;
    const outbound = connect(port, '127.0.0.1');
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    connections: () => connections,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

async function listenSilently(): Promise<{ server: Server; url: string }> {
  const server = createServer(() => undefined); // accepts, never answers
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

describe('CacheNodeClient against a real node', () => {
  let node: SpawnedCacheNode;
  let sut: CacheNodeClient;

  beforeAll(async () => {
    // Regions it gains are held for its near lease (invalidations wait that long): keep it short.
    node = await spawnCacheNode({ secret: 'k', capacityMb: 1, args: ['--near-lease-ms', '300'] });
    sut = new CacheNodeClient({ url: node.url, secret: 'k' });
    await sut.setOwnership(0, [...Array(16).keys()]); // it owns nothing until told
  });
  afterAll(async () => {
    sut.close();
    await node.stop();
  });

  it('returns each answer of the key protocol as its own kind', async () => {
    const miss = await sut.get('a', 4, 0);
    expect(miss).toEqual({ kind: 'miss', lease: expect.stringMatching(/^[0-9a-z]+$/), epoch: 0 });
    const lease = miss.kind === 'miss' ? miss.lease : '';
    expect(
      await sut.put('a', 4, Buffer.from('v1'), { version: 1, contentType: 'image/png', lease }),
    ).toEqual({ kind: 'stored', epoch: 0 });
    expect(await sut.get('a', 4, 0)).toEqual({
      kind: 'hit',
      value: Buffer.from('v1'),
      contentType: 'image/png',
      version: 1,
      epoch: 0,
    });
    expect(await sut.put('a', 4, Buffer.from('v0'), { version: 0 })).toEqual({
      kind: 'stale',
      reason: 'version',
      epoch: 0,
    });
    expect(await sut.put('b', 4, Buffer.alloc(2 << 20), { version: 1 })).toMatchObject({
      kind: 'too_large',
      epoch: 0,
    });
    expect(await sut.invalidate('a', 4, 2, 0)).toEqual({
      kind: 'invalidated',
      removed: true,
      epoch: 0,
    });
    await sut.setOwnership(3, [0]);
    expect(await sut.get('a', 4, 2)).toEqual({ kind: 'not_owner', epoch: 3, region: 4 });
    expect(await sut.put('a', 4, Buffer.from('x'), { version: 9 }, 2)).toEqual({
      kind: 'not_owner',
      epoch: 3,
      region: 4,
    });
    expect(await sut.invalidate('a', 4, 9, 2)).toEqual({ kind: 'not_owner', epoch: 3, region: 4 });
    await sut.setOwnership(4, [...Array(16).keys()]);
  });

  it('types the admin calls', async () => {
    expect(await sut.health()).toMatchObject({ status: 'ok', epoch: 4 });
    expect(await sut.setConfig({ policy: 'sieve' })).toEqual({
      capacityBytes: 1 << 20,
      policy: 'sieve',
    });
    expect(await sut.getConfig()).toEqual({ capacityBytes: 1 << 20, policy: 'sieve' });
    expect(await sut.getOwnership()).toEqual({ epoch: 4, regions: [...Array(16).keys()] });
    await sut.put('c', 1, Buffer.from('x'), { version: 1 });
    expect((await sut.stats()).items).toBe(1);
    expect(await sut.drop([1])).toEqual({ entries: 1, bytes: 1 });
    await sut.put('d', 2, Buffer.from('x'), { version: 1 });
    expect(await sut.clear()).toEqual({ entries: 1 });
    const stats = await sut.stats({ resetInterval: true });
    expect(stats.sinceStart.stored).toBeGreaterThanOrEqual(3);
    expect((await sut.stats()).interval.stored).toBe(0);
  });

  it('throws CacheNodeRequestError with the node code for answers outside the protocol', async () => {
    const error = await sut.setConfig({ capacityBytes: -5 }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(CacheNodeRequestError);
    expect(error).toMatchObject({ url: node.url, status: 400, code: 'bad_request' });
    const badKey = await sut.get('x'.repeat(2000), 1).catch((err: unknown) => err);
    expect(badKey).toMatchObject({ status: 400, code: 'bad_key' });
  });

  it('keeps connections alive and bounded by maxSockets', async () => {
    const relay = await countingRelay(node.port);
    const client = new CacheNodeClient({ url: relay.url, secret: 'k', maxSockets: 4 });
    try {
      for (let i = 0; i < 30; i++) await client.get(`seq${i}`, 1);
      expect(relay.connections()).toBe(1);
      const results = await Promise.all(
        Array.from({ length: 100 }, (_, i) => client.get(`par${i}`, 1)),
      );
      expect(results.every((r) => r.kind === 'miss')).toBe(true);
      expect(relay.connections()).toBeLessThanOrEqual(4);
    } finally {
      client.close();
      await relay.close();
    }
  });
});

describe('CacheNodeClient when the node is not there', () => {
  it('throws CacheNodeUnavailableError naming the node when nothing listens', async () => {
    const { server, url } = await listenSilently();
    await new Promise((resolve) => server.close(resolve));
    const sut = new CacheNodeClient({ url });
    const error = await sut.get('a', 1).catch((err: unknown) => err);
    sut.close();
    expect(error).toBeInstanceOf(CacheNodeUnavailableError);
    expect(error).toMatchObject({ url, cause: expect.objectContaining({ code: 'ECONNREFUSED' }) });
    expect((error as Error).message).toContain(url);
  });

  it('times out a node that accepts but never answers', async () => {
    const { server, url } = await listenSilently();
    const sut = new CacheNodeClient({ url, timeoutMs: 200 });
    const started = Date.now();
    const error = await sut.health().catch((err: unknown) => err);
    sut.close();
    server.close();
    expect(error).toBeInstanceOf(CacheNodeUnavailableError);
    expect((error as Error).message).toContain('no answer within 200 ms');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('an invalidation a node may hold for its subscribers: a stalled node is still found out within the plain timeout', async () => {
    const { server, url } = await listenSilently();
    const sut = new CacheNodeClient({ url, timeoutMs: 200, waitTimeoutMs: 5_000 });
    const started = Date.now();
    const error = await sut.invalidate('a', 1, 2, 1).catch((err: unknown) => err);
    sut.close();
    server.close();
    expect(error).toBeInstanceOf(CacheNodeUnavailableError);
    expect(Date.now() - started).toBeLessThan(2_000); // a live node says 102 Processing first
  });

  it('throws CacheNodeUnavailableError once a node it was using dies', async () => {
    const node = await spawnCacheNode();
    const sut = new CacheNodeClient({ url: node.url });
    expect((await sut.get('a', 1)).kind).toBe('not_owner'); // it answers: a fresh node owns nothing
    node.process.kill('SIGKILL');
    await new Promise((resolve) => node.process.once('exit', resolve));
    const error = await sut.get('a', 1).catch((err: unknown) => err);
    sut.close();
    expect(error).toBeInstanceOf(CacheNodeUnavailableError);
  });
});
