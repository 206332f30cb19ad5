import { getNumNodes, uploadChecked } from '../support/checked-io';
import { AppProcess, startApp } from '../support/app-process';
import { ConsistencyChecker } from '../support/consistency-checker';
import { makePng } from '../support/images';
import { postJson } from '../support/http';
import { startLoad } from '../support/load';
import type { Decision } from '../../src/autoscaler/autoscaler-decision';

const TICK_MS = 2000;
const MANY = Array.from({ length: 240 }, (_, i) => `many-${i}`);
const FEW = ['few-0', 'few-1', 'few-2'];

const numNodes = (app: AppProcess) => getNumNodes(app.url);
const missRate = async (app: AppProcess) =>
  (await postJson(`${app.url}/api/getRate?rate=miss`)).body.value as number;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The auto-scaler driving real cache nodes from a real load, in fast time (a tick every 2 s, the
 * miss rate over the time since the previous tick): it grows when a large key set thrashes small
 * caches, and shrinks back to one node under a light load on a few keys.
 */
describe('auto-scaler with real nodes and a real load', () => {
  let app: AppProcess;
  const checker = new ConsistencyChecker();
  const timeline: string[] = [];
  const started = Date.now();
  const note = async (phase: string) =>
    timeline.push(
      `| ${((Date.now() - started) / 1000).toFixed(0)} s | ${phase} | ${await numNodes(app)} | ${(await missRate(app)).toFixed(2)} |`,
    );

  beforeAll(async () => {
    app = await startApp({
      env: {
        PIXPOOL_CACHE_CAPACITY_MB: '1',
        PIXPOOL_AUTOSCALER_INTERVAL_MS: String(TICK_MS),
        PIXPOOL_AUTOSCALER_COOLDOWN_MS: '0',
        PIXPOOL_AUTOSCALER_MIN_LOOKUPS: '5',
        PIXPOOL_METRICS_POLL_INTERVAL_MS: '250',
        // The thrashing load must miss the nodes' 1 MB caches: a near cache (on by default) would
        // answer it from the front-end's memory, and a pool that needs no more nodes is right.
        PIXPOOL_NEAR_CACHE_CAPACITY_MB: '0',
      },
    });
    for (const key of [...MANY, ...FEW]) {
      const png = makePng(key.startsWith('many') ? 48 * 1024 : 16 * 1024);
      expect((await uploadChecked(checker, app.url, key, png)).status).toBe(200);
    }
  }, 60_000);
  afterAll(async () => {
    // The scaler's own record of each tick (what docs/autoscaler-run.md shows), oldest first.
    const res = app && (await fetch(`${app.url}/api/manager/autoscaler`).catch(() => null));
    const decisions = res?.ok ? ((await res.json()) as { decisions: Decision[] }).decisions : [];
    await app?.stop();
    console.log(
      [
        '| tick | miss rate (since last tick) | lookups | nodes | action | reason |',
        '|---|---|---|---|---|---|',
        ...decisions.reverse().map((d) => {
          const rate = d.missRate === null ? '–' : d.missRate.toFixed(2);
          const nodes = d.action === 'none' ? `${d.n}` : `${d.n} → ${d.target}`;
          return `| ${d.at.slice(11, 19)} | ${rate} | ${d.lookups ?? '–'} | ${nodes} | ${d.action} | ${d.reason} |`;
        }),
        '',
        '| time | phase | nodes | miss rate (last 60 s) |',
        '|---|---|---|---|',
        ...timeline,
      ].join('\n'),
    );
  });

  it('grows under a thrashing load and shrinks back to 1 under a light one, reads correct throughout', async () => {
    const configured = await postJson(
      `${app.url}/api/configure_cache?mode=auto&maxMiss=0.5&minMiss=0.2&expRatio=2&shrinkRatio=0.5`,
    );
    expect(configured.body).toMatchObject({ success: 'true', mode: 'auto', numNodes: 1 });

    const heavy = startLoad(() => app.url, checker, { readKeys: MANY, writeKeys: [], readers: 4 });
    // Four ticks: the first may still judge a window from before the load began ("idle", as in
    // a CI run where it grew at the next tick, just past three).
    const grewBy = Date.now() + 4 * TICK_MS;
    let grew = false;
    while (Date.now() < grewBy + 12 * TICK_MS && (await numNodes(app)) < 8) {
      await sleep(TICK_MS / 2);
      await note('random reads over 240 keys × 48 KiB, 1 MB per node');
      if (!grew && (await numNodes(app)) > 1) grew = Date.now() <= grewBy;
    }
    const heavyReport = await heavy.stop();
    expect(grew).toBe(true);
    expect(await numNodes(app)).toBeGreaterThanOrEqual(4);

    const light = startLoad(() => app.url, checker, { readKeys: FEW, writeKeys: [], readers: 1 });
    const deadline = Date.now() + 20 * TICK_MS;
    while (Date.now() < deadline && (await numNodes(app)) > 1) {
      await sleep(TICK_MS / 2);
      await note('reads of 3 keys');
    }
    const lightReport = await light.stop();
    expect(await numNodes(app)).toBe(1);

    expect([...heavyReport.errors, ...lightReport.errors]).toEqual([]);
    expect(checker.staleReads).toEqual([]);
  }, 120_000);
});
