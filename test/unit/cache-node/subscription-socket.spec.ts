import { connect } from 'node:net';
import type { CacheNode } from '../../../src/cache-node/server';
import { CacheNodeClient } from '../../../src/pool/client/cache-node.client';
import { inProcessNode } from '../../support/in-process-node';

/** Raw bytes to the node's port; resolves with all it answered until it closed the connection. */
function exchange(port: number, ...writes: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
    socket.setTimeout(3000, () => socket.destroy());
    for (const write of writes) socket.write(write);
  });
}

const upgrade = (secret?: string, path = '/v1/subscribe') =>
  `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: pixpool-near/1\r\n` +
  (secret ? `x-pixpool-secret: ${secret}\r\n` : '') +
  '\r\n';

describe('cache node: the subscription endpoint refuses what it must', () => {
  let node: CacheNode;
  let port: number;
  let client: CacheNodeClient;

  beforeAll(async () => {
    node = inProcessNode({ capacityBytes: 1024 * 1024, secret: 's3cret' });
    port = (await node.listen()).port;
    client = new CacheNodeClient({ url: `http://127.0.0.1:${port}`, secret: 's3cret' });
    await client.setOwnership(1, [0, 3, 5]); // a node owns nothing until told
  });
  afterAll(async () => {
    client.close();
    await node.close(100);
  });

  it('without the secret: 401, and no subscriber', async () => {
    expect(await exchange(port, upgrade())).toMatch(/^HTTP\/1.1 401 .*"error":"unauthorized"/s);
    expect(await exchange(port, upgrade('wrong'))).toMatch(/^HTTP\/1.1 401/);
    expect((await client.stats()).near?.subscribers).toBe(0);
  });

  it('an upgrade of another path or protocol: 400', async () => {
    expect(await exchange(port, upgrade('s3cret', '/v1/keys'))).toMatch(/^HTTP\/1.1 400/);
    const websocket = upgrade('s3cret').replace('pixpool-near/1', 'websocket');
    expect(await exchange(port, websocket)).toMatch(/^HTTP\/1.1 400/);
  });

  it('with the secret: a lease is granted; malformed lines close only that connection', async () => {
    const lease = JSON.stringify({ t: 'lease', seq: 1, regions: [0, 3], ms: 1000 });
    const answer = await exchange(port, upgrade('s3cret'), `${lease}\n`, 'not json\n');
    expect(answer).toMatch(/^HTTP\/1.1 101 /);
    expect(answer).toContain('{"t":"leased","seq":1,"regions":[0,3],"epoch":1,"ms":3000}');
    for (const bad of [
      '{"t":"lease","seq":1,"regions":[99],"ms":1000}\n',
      '{"t":"lease","seq":"x","regions":[],"ms":1000}\n',
      '{"t":"nope"}\n',
      '[1,2]\n',
      `${'x'.repeat(1024 * 1024 + 10)}`,
    ]) {
      const closed = await exchange(port, upgrade('s3cret'), bad);
      expect(closed).toMatch(/^HTTP\/1.1 101 /);
      expect(closed).not.toContain('leased');
    }
    expect((await client.health()).status).toBe('ok');
  });

  it('hit batches with bad items are skipped, good ones counted', async () => {
    const before = (await client.stats()).sinceStart.hits;
    const hits = JSON.stringify({
      t: 'hits',
      hits: [['k', 3], ['k', -1], [5, 1], ['k'], ['j', 2.5], ['j', 2]],
    });
    await exchange(port, upgrade('s3cret'), `${hits}\n`, '{"t":"bye"}\n');
    expect((await client.stats()).sinceStart.hits - before).toBe(5);
  });
});

describe('cache node: a subscription that never asks for a lease', () => {
  const HEADERS_TIMEOUT_MS = 500;
  let node: CacheNode;
  let port: number;
  let client: CacheNodeClient;

  beforeAll(async () => {
    node = inProcessNode({
      capacityBytes: 1024 * 1024,
      secret: 's3cret',
      headersTimeoutMs: HEADERS_TIMEOUT_MS,
    });
    port = (await node.listen()).port;
    client = new CacheNodeClient({ url: `http://127.0.0.1:${port}`, secret: 's3cret' });
  });
  afterAll(async () => {
    client.close();
    await node.close(100);
  });

  it('is closed by the node after its headers timeout, so upgraded sockets cannot pile up', async () => {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    const openedAt = Date.now();
    const closedAt = new Promise<number>((resolve) =>
      socket.on('close', () => resolve(Date.now())),
    );
    socket.resume();
    socket.write(upgrade('s3cret'));
    const lifetime = (await Promise.race([
      closedAt,
      new Promise((resolve) => setTimeout(resolve, HEADERS_TIMEOUT_MS + 4000, Infinity)),
    ])) as number;
    socket.destroy();
    expect(lifetime - openedAt).toBeLessThan(HEADERS_TIMEOUT_MS + 2000);
    expect(lifetime - openedAt).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 50);
    expect((await client.stats()).near?.subscribers).toBe(0);
  });

  it('keeps a subscriber that leased in time past that bound', async () => {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    let closed = false;
    socket.on('close', () => (closed = true));
    socket.resume();
    socket.write(upgrade('s3cret'));
    socket.write(`${JSON.stringify({ t: 'lease', seq: 1, regions: [], ms: 5000 })}\n`);
    await new Promise((resolve) => setTimeout(resolve, HEADERS_TIMEOUT_MS * 3));
    expect(closed).toBe(false);
    socket.destroy();
  });
});
