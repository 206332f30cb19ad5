import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { AppProcess, startApp } from '../support/app-process';
import { countBlobs } from '../support/blobs';
import { postJson, upload } from '../support/http';
import { makePng } from '../support/images';

const NODE_SECRET = 'e2e-node-secret-padded-to-32-characters';
const MIB = 1024 * 1024;

interface PoolBody {
  size: number;
  nodes: { id: string; url: string; cache: { items: number } | null }[];
  resize: { running: boolean };
}

/**
 * The manager against the real app with real cache-node processes: the course's tester endpoints,
 * checked on the nodes themselves, and the manager API's rebalance lock.
 */
describe('manager and course tester endpoints (real app, real nodes)', () => {
  let app: AppProcess;

  beforeAll(async () => {
    app = await startApp({
      env: {
        PIXPOOL_METRICS_POLL_INTERVAL_MS: '500',
        PIXPOOL_SECURITY_NODE_SECRET: NODE_SECRET,
      },
    });
  });
  afterAll(async () => {
    await app?.stop();
  });

  const course = (endpoint: string) => postJson(`${app.url}/api/${endpoint}`);

  async function pool(): Promise<PoolBody> {
    return (await (await fetch(`${app.url}/api/manager/pool`)).json()) as PoolBody;
  }

  /** Straight from the node, as only the app should talk to it: with the node secret. */
  async function nodeGet(url: string, route: string, secret = NODE_SECRET) {
    const res = await fetch(`${url}${route}`, { headers: { 'x-pixpool-secret': secret } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  async function nodeConfigs() {
    const { nodes } = await pool();
    return Promise.all(nodes.map(async (node) => (await nodeGet(node.url, '/v1/config')).body));
  }

  async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 15_000) {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it('configure_cache resizes 1 → 8 → 1, and sets capacity and policy on every node', async () => {
    expect(await course('getNumNodes')).toEqual({
      status: 200,
      body: { success: 'true', numNodes: 1 },
    });

    const grown = await course('configure_cache?mode=manual&numNodes=8&cacheSize=16&policy=RR');
    expect(grown).toEqual({
      status: 200,
      body: { success: 'true', mode: 'manual', numNodes: 8, cacheSize: 16, policy: 'RR' },
    });
    expect((await course('getNumNodes')).body).toEqual({ success: 'true', numNodes: 8 });
    const eight = await pool();
    expect(new Set(eight.nodes.map((n) => n.url)).size).toBe(8);
    expect(await nodeConfigs()).toEqual(
      Array(8).fill({ capacityBytes: 16 * MIB, policy: 'random' }),
    );
    expect((await nodeGet(eight.nodes[0].url, '/v1/config', 'wrong')).status).toBe(401);

    const shrunk = await course('configure_cache?numNodes=1&cacheSize=8&policy=lru');
    expect(shrunk.body).toEqual({
      success: 'true',
      mode: 'manual',
      numNodes: 1,
      cacheSize: 8,
      policy: 'LRU',
    });
    expect((await course('getNumNodes')).body).toEqual({ success: 'true', numNodes: 1 });
    expect(await nodeConfigs()).toEqual([{ capacityBytes: 8 * MIB, policy: 'lru' }]);
    // The seven removed nodes were stopped, not just left out of the assignment.
    for (const gone of eight.nodes.slice(1)) {
      await expect(fetch(`${gone.url}/health`)).rejects.toThrow();
    }
  });

  it('getRate reports the miss rate of a measured load (25 misses, 75 hits)', async () => {
    const keys = Array.from({ length: 25 }, (_, i) => `rate-${i}`);
    for (const key of keys) expect((await upload(app.url, key, makePng(1500))).status).toBe(200);
    for (const key of keys) expect((await fetch(`${app.url}/images/${key}`)).status).toBe(200);
    // The fills land after the answers: wait until the node holds all 25, or some of the hits
    // counted below would be misses.
    await waitUntil('the node to hold the 25 images', async () => {
      const { nodes } = await pool();
      return nodes.reduce((sum, node) => sum + (node.cache?.items ?? 0), 0) >= 25;
    });
    for (let round = 0; round < 3; round++) {
      for (const key of keys) await (await fetch(`${app.url}/images/${key}`)).arrayBuffer();
    }
    const lookups = async () => {
      const res = await fetch(`${app.url}/api/manager/stats?minutes=2`);
      const body = (await res.json()) as { lastMinute: { lookups: number } };
      return body.lastMinute.lookups;
    };
    await waitUntil('two polls to count the load', async () => (await lookups()) >= 100);

    const miss = await course('getRate?rate=miss');
    const hit = await course('getRate?rate=hit');
    expect(Object.keys(miss.body)).toEqual(['success', 'rate', 'value']);
    expect(miss.body).toMatchObject({ success: 'true', rate: 'miss' });
    expect(hit.body).toMatchObject({ success: 'true', rate: 'hit' });
    expect(Math.abs((miss.body.value as number) - 0.25)).toBeLessThanOrEqual(0.02);
    expect(Math.abs((hit.body.value as number) - 0.75)).toBeLessThanOrEqual(0.02);

    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    const hits = /^pixpool_node_hits_total\{node="[^"]+"\} (\d+)$/m.exec(metrics);
    expect(Number(hits?.[1])).toBeGreaterThanOrEqual(70);
  });

  it('delete_all leaves no row, no stored image and no cached entry', async () => {
    expect(await course('delete_all')).toEqual({ status: 200, body: { success: 'true' } });

    expect((await course('list_keys')).body).toEqual({ success: 'true', keys: [] });
    const db = new DataSource({
      type: 'better-sqlite3',
      database: path.join(app.dir, 'pixpool.sqlite'),
      readonly: true,
    });
    await db.initialize();
    expect(await db.query('SELECT COUNT(*) AS n FROM images')).toEqual([{ n: 0 }]);
    await db.destroy();
    expect(countBlobs(app)).toBe(0);
    for (const node of (await pool()).nodes) {
      expect((await nodeGet(node.url, '/v1/stats')).body.items).toBe(0);
    }
  });

  it.each([
    ['configure_cache?numNodes=9', 'numNodes must be an integer in 1..8'],
    ['configure_cache?numNodes=two', 'numNodes must be an integer in 1..8'],
    ['configure_cache?numNodes=2&policy=FIFO', 'policy must be LRU or RR (or sieve)'],
    ['configure_cache?cacheSize=0&numNodes=2', 'cacheSize must be an integer (MB) in 1..65536'],
    [
      'configure_cache?numNodes=2&cacheSize=32&minMiss=0.95',
      'minMiss (0.95) must be below maxMiss',
    ],
    ['configure_cache?mode=sometimes&numNodes=2', 'mode must be manual or auto'],
    ['getRate?rate=evictions', 'rate must be miss or hit'],
    ['getRate', 'rate must be miss or hit'],
  ])('%s → 400, and nothing changed', async (endpoint, message) => {
    const res = await course(endpoint);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      success: 'false',
      error: { code: 400, message: expect.stringContaining(message) },
    });
    expect((await course('configure_cache')).body).toEqual({
      success: 'true',
      mode: 'manual',
      numNodes: 1,
      cacheSize: 8,
      policy: 'LRU',
    });
  });

  it('refuses a second resize while one runs (409), through the manager API and configure_cache', async () => {
    const grow = await fetch(`${app.url}/api/manager/pool/grow`, { method: 'POST' });
    expect(grow.status).toBe(202);
    expect(await grow.json()).toMatchObject({ resize: { from: 1, to: 2 } });

    const again = await fetch(`${app.url}/api/manager/pool/grow`, { method: 'POST' });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ error: { message: /already running/ } });
    expect((await course('configure_cache?numNodes=3&cacheSize=4')).status).toBe(409);

    await waitUntil('the grow to finish', async () => {
      const now = await pool();
      return !now.resize.running && now.size === 2;
    });
    expect((await course('configure_cache')).body).toMatchObject({ numNodes: 2, cacheSize: 8 });
  });

  it('documents the manager and course endpoints in the OpenAPI document', async () => {
    const spec = (await (await fetch(`${app.url}/api/docs-json`)).json()) as {
      paths: Record<string, Record<string, { security?: unknown[] }>>;
    };
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining([
        '/api/getNumNodes',
        '/api/getRate',
        '/api/configure_cache',
        '/api/delete_all',
        '/api/manager/pool',
        '/api/manager/pool/grow',
        '/api/manager/pool/shrink',
        '/api/manager/pool/size',
        '/api/manager/stats',
        '/api/manager/cache',
        '/api/manager/cache/clear',
        '/api/manager/autoscaler',
        '/api/manager/data',
      ]),
    );
    expect(spec.paths['/api/manager/pool/grow'].post.security).toEqual([{ bearer: [] }]);
  });

  it('keeps the cache settings, the auto-scaler policy and the statistics across a restart', async () => {
    const set = await course(
      'configure_cache?mode=auto&maxMiss=0.7&minMiss=0.1&expRatio=3&shrinkRatio=0.25&cacheSize=12&policy=sieve',
    );
    expect(set.body).toEqual({
      success: 'true',
      mode: 'auto',
      numNodes: 2,
      cacheSize: 12,
      policy: 'SIEVE',
    });

    await app.restart();

    const policy = await (await fetch(`${app.url}/api/manager/autoscaler`)).json();
    expect(policy).toMatchObject({
      policy: { mode: 'auto', maxMiss: 0.7, minMiss: 0.1, expRatio: 3, shrinkRatio: 0.25 },
    });
    expect(await nodeConfigs()).toEqual(
      Array(2).fill({ capacityBytes: 12 * MIB, policy: 'sieve' }),
    );
    const stats = (await (await fetch(`${app.url}/api/manager/stats`)).json()) as {
      points: { hits: number }[];
    };
    expect(stats.points).toHaveLength(30);
    expect(stats.points.reduce((sum, p) => sum + p.hits, 0)).toBeGreaterThanOrEqual(70);
  });
});
