import type { Browser, Page } from 'playwright-core';
import { loadConfig } from '../../src/config/config-loader';
import { ManagerStatsService, StatsSnapshot } from '../../src/manager/manager-stats.service';
import { StatsAggregator } from '../../src/metrics/stats.aggregator';
import { AppProcess, startApp } from '../support/app-process';
import { launchBrowser } from '../support/browser';
import { postJson, upload } from '../support/http';
import { makePng } from '../support/images';
import { FakeStatsStore, sample, SimClock, T0 } from '../unit/metrics/stats-fixtures';

const TOKEN = 'dashboard-e2e-token-padded-to-32-characters';
const CHARTS = ['nodes', 'miss', 'hit', 'items', 'size', 'requests'];

/**
 * 30 simulated minutes of polls through the real aggregator and the manager's stats service: what
 * GET /api/manager/stats would answer after half an hour of a pool growing from 1 to 4 nodes.
 */
async function thirtySimulatedMinutes(): Promise<StatsSnapshot> {
  const clock = new SimClock(T0);
  const aggregator = new StatsAggregator(new FakeStatsStore(), clock, { retentionMinutes: 30 });
  for (let poll = 0; poll < 30 * 12; poll++) {
    const minute = Math.floor(poll / 12);
    const size = Math.min(4, 1 + Math.floor(minute / 8));
    const at = T0 + poll * 5000;
    clock.set(at);
    const samples = Array.from({ length: size }, (_, n) =>
      sample(`node-${n}`, at, {
        hits: 20 + minute * 2,
        misses: Math.max(1, 30 - minute),
        items: 50 * (minute + 1),
        bytes: 40_000 * (minute + 1),
      }),
    );
    await aggregator.ingest(samples, size);
  }
  const stats = new ManagerStatsService(loadConfig({}), aggregator, clock);
  return stats.snapshot(30);
}

/** What each chart holds: its data, read from Chart.js itself. */
function chartData(page: Page): Promise<Record<string, number[]>> {
  return page.evaluate((names) => {
    const chartJs = (window as unknown as { Chart: { getChart(c: HTMLCanvasElement): unknown } })
      .Chart;
    const data: Record<string, number[]> = {};
    for (const name of names) {
      const canvas = document.getElementById(`chart-${name}`) as HTMLCanvasElement;
      const chart = chartJs.getChart(canvas) as { data: { datasets: { data: number[] }[] } };
      data[name] = chart.data.datasets[0].data;
    }
    return data;
  }, CHARTS);
}

async function waitForPoints(page: Page, points: number): Promise<void> {
  await page.waitForFunction(
    ([names, n]) =>
      (names as string[]).every(
        (name) => document.getElementById(`chart-${name}`)?.dataset.points === String(n),
      ),
    [CHARTS, points] as const,
  );
}

describe('manager dashboard in headless Chromium (real app, admin token)', () => {
  let app: AppProcess;
  let browser: Browser;
  let page: Page;
  const auth = { Authorization: `Bearer ${TOKEN}` };

  beforeAll(async () => {
    [app, browser] = await Promise.all([
      startApp({
        env: { PIXPOOL_SECURITY_ADMIN_TOKEN: TOKEN, PIXPOOL_METRICS_POLL_INTERVAL_MS: '500' },
      }),
      launchBrowser(),
    ]);
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('asks for the admin token, keeps it for the tab, and then shows the pool', async () => {
    await page.goto(`${app.url}/manager`);
    await page.waitForSelector('#auth:not([hidden])');
    expect(await page.textContent('#auth-message')).toContain('needs the admin token');

    await page.fill('#auth-token', 'not the token');
    await page.click('#auth-form button[type=submit]');
    await page.waitForFunction(() =>
      document.getElementById('auth-message')?.textContent?.includes('refused'),
    );

    await page.fill('#auth-token', TOKEN);
    await page.click('#auth-form button[type=submit]');
    await page.waitForSelector('#auth', { state: 'hidden' });
    await page.waitForFunction(() => document.getElementById('kpi-nodes')?.textContent === '1');
    await waitForPoints(page, 30);
    expect(await page.locator('#regions .region').count()).toBe(16);
    expect(await page.locator('#nodes tr').count()).toBe(1);
    // The first health check comes within pool.healthIntervalMs, the next refresh shows it.
    await page.waitForFunction(() =>
      document.getElementById('nodes')?.textContent?.includes('healthy'),
    );

    // The dependencies card: both breakers closed while the database and storage answer.
    await page.waitForFunction(() => document.querySelectorAll('#dependencies li').length === 2);
    expect(await page.locator('#dependencies li').allTextContents()).toEqual([
      'database: closed: reachable',
      'storage: closed: reachable',
    ]);
    // The near-cache card polls its endpoint as the card above does; on by default, it lists
    // this front-end.
    const near = await page.waitForResponse((r) => r.url().endsWith('/api/manager/near'));
    expect(near.status()).toBe(200);
    await page.waitForFunction(() =>
      document.getElementById('near-frontends')?.textContent?.includes('(this one)'),
    );
    expect(await page.locator('#near-frontends tr').count()).toBe(1);
    expect(await page.isHidden('#near-status')).toBe(true);

    await page.reload(); // the token is kept for this tab (sessionStorage)
    await page.waitForFunction(() => document.getElementById('kpi-nodes')?.textContent === '1');
    expect(await page.isHidden('#auth')).toBe(true);
  });

  it('a grow click changes the node count shown', async () => {
    await page.click('#grow');
    await page.waitForFunction(() => document.getElementById('kpi-nodes')?.textContent === '2');
    await page.waitForFunction(() => document.querySelectorAll('#nodes tr').length === 2);
    const owners = await page
      .locator('#regions .region')
      .evaluateAll((cells) => cells.map((cell) => cell.getAttribute('title')));
    expect(new Set(owners).size).toBe(2);
    expect(await page.textContent('#pool-status')).toContain('Resizing 1 → 2');
  });

  it('updates the charts live with the current minute’s traffic', async () => {
    // The last point is the current minute: the reads and the page's next refresh (within 5 s,
    // plus the app's node poll) must fall in the same minute, so start well before its end.
    const second = new Date().getSeconds();
    if (second > 40) await new Promise((resolve) => setTimeout(resolve, (61 - second) * 1000));
    expect((await upload(app.url, 'live', makePng(2000))).status).toBe(200);
    for (let i = 0; i < 5; i++) await (await fetch(`${app.url}/images/live`)).arrayBuffer();
    // The page polls every 5 s and the app polls the nodes every 0.5 s.
    await page.waitForFunction(
      () => document.getElementById('kpi-lookups')?.textContent === '5',
      undefined,
      { timeout: 15_000 },
    );
    const data = await chartData(page);
    expect(data.requests[29]).toBeGreaterThanOrEqual(5);
    expect(data.nodes[29]).toBe(2);
    expect(data.items[29]).toBe(1);
  }, 60_000);

  it('draws 30 one-minute points per chart from 30 simulated minutes', async () => {
    const snapshot = await thirtySimulatedMinutes();
    await page.route('**/api/manager/stats**', (route) =>
      route.fulfill({ json: { success: 'true', ...snapshot } }),
    );
    await page.reload();
    await waitForPoints(page, 30);

    const data = await chartData(page);
    const points = snapshot.points;
    expect(data.nodes).toEqual(points.map((p) => p.poolSize));
    expect(data.nodes[0]).toBe(1);
    expect(data.nodes[29]).toBe(4);
    expect(data.requests).toEqual(points.map((p) => p.requests));
    expect(data.items).toEqual(points.map((p) => p.items));
    for (const name of CHARTS) {
      expect(data[name]).toHaveLength(30);
      expect(data[name].every((v) => typeof v === 'number' && Number.isFinite(v))).toBe(true);
    }
    expect(data.miss[0]).toBeCloseTo(60, 0); // minute 0: 30 misses to 20 hits per poll
    expect(data.hit[29]).toBeGreaterThan(data.hit[0]);
    await page.unroute('**/api/manager/stats**');
  });

  it('saves the auto-scaler policy and the cache settings from the forms', async () => {
    await page.check('#policy-form input[value=auto]');
    await page.fill('#policy-form input[name=maxMiss]', '0.6');
    await page.fill('#policy-form input[name=minMiss]', '0.1');
    await page.click('#policy-form button[type=submit]');
    await page.waitForSelector('#policy-status.ok');
    await page.fill('#cache-form input[name=capacityMb]', '24');
    await page.selectOption('#cache-form select[name=policy]', 'random');
    await page.click('#cache-form button[type=submit]');
    await page.waitForSelector('#cache-status.ok');

    const configured = await fetch(`${app.url}/api/configure_cache`, {
      method: 'POST',
      headers: auth,
    });
    expect(await configured.json()).toEqual({
      success: 'true',
      mode: 'auto',
      numNodes: 2,
      cacheSize: 24,
      policy: 'RR',
    });
    await page.fill('#policy-form input[name=minMiss]', '0.9');
    await page.click('#policy-form button[type=submit]');
    await page.waitForSelector('#policy-status.error');
    expect(await page.textContent('#policy-status')).toContain('must be below maxMiss');
  });

  it('deletes all data only after the confirm step', async () => {
    const keys = async () =>
      (await (await fetch(`${app.url}/api/list_keys`, { method: 'POST' })).json()) as {
        keys: string[];
      };
    expect((await upload(app.url, 'keep-me', makePng(1500))).status).toBe(200);
    await page.click('#delete-all');
    expect(await page.isVisible('#delete-confirm')).toBe(true);
    await page.click('#delete-no');
    expect(await page.isHidden('#delete-confirm')).toBe(true);
    expect((await keys()).keys).toContain('keep-me');

    await page.click('#delete-all');
    await page.click('#delete-yes');
    await page.waitForSelector('#data-status.ok');
    expect((await keys()).keys).toEqual([]);
    expect(await postJson(`${app.url}/api/list_keys`)).toMatchObject({ body: { keys: [] } });
  });
  it('lists the variant presets and shows a stored image through them with srcset', async () => {
    expect((await upload(app.url, 'poster', makePng(30_000))).status).toBe(200);
    await page.reload();
    await page.waitForFunction(() => document.querySelectorAll('#variant-presets tr').length === 3);
    expect(await page.locator('#variant-presets tr').first().textContent()).toBe(
      'thumb320 × 320coveras requested (fmt=…)',
    );
    await page.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>('#variant-image');
      return !!img && img.complete && img.naturalWidth > 0;
    });
    const srcset = await page.getAttribute('#variant-image', 'srcset');
    expect(srcset).toBe(
      ['small', 'thumb', 'medium']
        .map((name, i) => `/images/poster?preset=${name}&fmt=auto ${[160, 320, 640][i]}w`)
        .join(', '),
    );
  });
});
