import { request } from 'node:http';
import { CacheNodeClient, CacheNodeRequestError } from '../../../src/pool/client/cache-node.client';
import { CacheNodeStartError, spawnCacheNode } from '../../support/spawn-cache-node';
import { raw, sleep, startNode, type RunningNode } from './node-fixtures';

/** Gives a fresh node (it owns nothing) `regions`, as a manager would. */
async function owning(url: string, regions: number[]): Promise<void> {
  const client = new CacheNodeClient({ url });
  await client.setOwnership(1, regions);
  client.close();
}

describe('cache node over real sockets: auth', () => {
  let running: RunningNode;
  const secret = 'correct horse battery staple';

  beforeAll(async () => {
    running = await startNode({ secret });
  });
  afterAll(() => running.stop());

  it('serves /health without the secret', async () => {
    expect((await raw(running.node.url, 'GET', '/health')).status).toBe(200);
  });

  it.each([
    ['GET', '/v1/keys/a?region=1'],
    ['PUT', '/v1/keys/a?region=1&version=1'],
    ['DELETE', '/v1/keys/a?region=1&version=1'],
    ['DELETE', '/v1/keys'],
    ['GET', '/v1/config'],
    ['PUT', '/v1/config'],
    ['GET', '/v1/stats'],
    ['PUT', '/v1/ownership'],
    ['POST', '/v1/transfer'],
    ['POST', '/v1/import?epoch=0'],
    ['POST', '/v1/drop'],
    ['GET', '/no/such/route'],
  ])('refuses %s %s without the right secret', async (method, path) => {
    for (const given of [undefined, '', 'wrong', `${secret}x`, secret.toUpperCase()]) {
      const headers = given === undefined ? {} : { 'x-pixpool-secret': given };
      const res = await raw(running.node.url, method, path, { headers, body: '{}' });
      expect([res.status, res.json.error]).toEqual([401, 'unauthorized']);
    }
  });

  it('serves everything with the secret, and the client sends it', async () => {
    const res = await raw(running.node.url, 'GET', '/v1/config', {
      headers: { 'X-Pixpool-Secret': secret },
    });
    expect(res.status).toBe(200);
    await running.client.put('k', 1, Buffer.from('v'), { version: 1 });
    expect(await running.client.get('k', 1)).toMatchObject({ kind: 'hit' });
    const anonymous = new CacheNodeClient({ url: running.node.url });
    const error = await anonymous.stats().catch((err: unknown) => err);
    anonymous.close();
    expect(error).toBeInstanceOf(CacheNodeRequestError);
    expect(error).toMatchObject({ status: 401, code: 'unauthorized' });
  });
});

describe('cache node process lifecycle', () => {
  it('refuses to bind a non-loopback address without a secret, saying why', async () => {
    const error = await spawnCacheNode({ host: '0.0.0.0' }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(CacheNodeStartError);
    expect(error).toMatchObject({ exitCode: 2 });
    expect((error as CacheNodeStartError).output).toContain(
      'refusing to listen on 0.0.0.0 without a secret',
    );
  });

  it('binds any address when it has a secret', async () => {
    const node = await spawnCacheNode({ host: '0.0.0.0', secret: 's' });
    try {
      expect(node.url).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/);
      expect((await raw(`http://127.0.0.1:${node.port}`, 'GET', '/health')).status).toBe(200);
    } finally {
      await node.stop();
    }
  });

  it('exits when its parent goes away (the IPC channel closes)', async () => {
    const node = await spawnCacheNode();
    const exited = new Promise<number | null>((resolve) => node.process.once('exit', resolve));
    node.process.disconnect();
    expect(await exited).toBe(0);
    expect(node.output()).toContain('parent went away');
  });

  it('on SIGTERM finishes the request in flight, then exits 0', async () => {
    const node = await spawnCacheNode();
    await owning(node.url, [1]);
    const body = Buffer.alloc(100_000, 7);
    const answer = new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: node.port,
          method: 'PUT',
          path: '/v1/keys/slow?region=1&version=1',
          headers: { 'content-length': body.length },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.write(body.subarray(0, 1000));
      setTimeout(() => req.end(body.subarray(1000)), 300);
    });
    const exited = new Promise<number | null>((resolve) => node.process.once('exit', resolve));
    await sleep(100);
    node.process.kill('SIGTERM');
    expect(await answer).toBe(204);
    expect(await exited).toBe(0);
    expect(node.output()).toContain('stopping (SIGTERM)');
  });
});
