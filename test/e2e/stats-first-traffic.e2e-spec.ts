import { AppProcess, startApp } from '../support/app-process';
import { postJson, upload } from '../support/http';
import { makePng } from '../support/images';

/**
 * The course tester's sequence right after a grow: configure 2 nodes, upload 10 images, read each
 * 5 times, ask the hit rate at once. The second node started after this instance began polling,
 * so all its lookups count (issue 12, part 1); getRate polls the nodes before answering. The
 * default poll interval (5 s) is kept on purpose: the answer must not wait for it.
 */
describe('statistics count the first traffic of a new node', () => {
  let app: AppProcess;

  beforeAll(async () => {
    // Near hits reach the nodes' counters with the next hit report (nearCache.reportIntervalMs),
    // not at once: this suite is about the nodes counting their own first traffic, so L1 is off.
    app = await startApp({ env: { PIXPOOL_NEAR_CACHE_CAPACITY_MB: '0' } });
  });
  afterAll(async () => {
    await app?.stop();
  });

  const course = (endpoint: string) => postJson(`${app.url}/api/${endpoint}`);

  it('10 images read 5 times each on 2 nodes: hit rate >= 0.8 right away', async () => {
    const grown = await course('configure_cache?mode=manual&numNodes=2');
    expect(grown.body).toMatchObject({ success: 'true', numNodes: 2 });
    const keys = Array.from({ length: 10 }, (_, i) => `first-traffic-${i}`);
    for (const key of keys) expect((await upload(app.url, key, makePng(2000))).status).toBe(200);

    const read = async (key: string) => {
      const res = await fetch(`${app.url}/images/${key}`);
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    };
    // 10 misses; each has filled its node before it answers, so the next read of a key hits.
    await Promise.all(keys.map(read));
    for (let round = 0; round < 4; round++) await Promise.all(keys.map(read)); // 40 hits
    const hit = await course('getRate?rate=hit');

    expect(hit.body).toMatchObject({ success: 'true', rate: 'hit' });
    expect(hit.body.value as number).toBeGreaterThanOrEqual(0.8);
    // All 50 lookups counted at once, by one poll made for the answer (the interval is 5 s).
    const stats = (await (await fetch(`${app.url}/api/manager/stats?minutes=2`)).json()) as {
      lastMinute: { lookups: number };
    };
    expect(stats.lastMinute.lookups).toBe(50);
  });
});
