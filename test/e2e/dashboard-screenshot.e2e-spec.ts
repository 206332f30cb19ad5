import * as path from 'node:path';
import { AppProcess, startApp } from '../support/app-process';
import { launchBrowser } from '../support/browser';
import { postJson, upload } from '../support/http';
import { makePng } from '../support/images';

/**
 * Makes docs/dashboard.png: the dashboard after some minutes of a real load that makes the
 * auto-scaler grow and shrink the pool. Minutes of wall time, so it runs only when asked:
 *   PIXPOOL_DASHBOARD_SCREENSHOT_MINUTES=8 npx jest test/e2e/dashboard-screenshot
 */
const MINUTES = Number(process.env.PIXPOOL_DASHBOARD_SCREENSHOT_MINUTES ?? 0);
const OUTPUT = path.resolve(__dirname, '..', '..', 'docs', 'dashboard.png');
const KEYS = 400;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

(MINUTES > 0 ? describe : describe.skip)('dashboard screenshot under load', () => {
  let app: AppProcess;

  beforeAll(async () => {
    app = await startApp({
      env: {
        PIXPOOL_AUTOSCALER_INTERVAL_MS: '30000',
        PIXPOOL_AUTOSCALER_COOLDOWN_MS: '45000',
      },
    });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it(
    `runs ${MINUTES} minutes of load and saves ${OUTPUT}`,
    async () => {
      // 2 MB per node against up to 8 MB of images: the pool size decides the miss rate.
      await postJson(
        `${app.url}/api/configure_cache?mode=auto&maxMiss=0.45&minMiss=0.1&expRatio=2&shrinkRatio=0.5&cacheSize=2&policy=LRU`,
      );
      for (let i = 0; i < KEYS; i++) await upload(app.url, `photo-${i}`, makePng(20_000));

      const started = Date.now();
      const elapsed = () => (Date.now() - started) / (MINUTES * 60_000);
      /** Wide, then a small hot set (the scaler shrinks), then wider still (it grows again). */
      const workingSet = () => (elapsed() < 0.35 ? 240 : elapsed() < 0.65 ? 50 : KEYS);
      const worker = async () => {
        while (elapsed() < 1) {
          const key = `photo-${Math.floor(Math.random() * workingSet())}`;
          await (await fetch(`${app.url}/images/${key}`)).arrayBuffer();
          await sleep(15);
        }
      };
      await Promise.all([worker(), worker(), worker(), worker()]);

      const browser = await launchBrowser();
      try {
        const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
        await page.goto(`${app.url}/manager`);
        await page.waitForFunction(
          () => document.getElementById('chart-nodes')?.dataset.points === '30',
        );
        await page.waitForTimeout(500);
        await page.screenshot({ path: OUTPUT, fullPage: true });
      } finally {
        await browser.close();
      }
    },
    (MINUTES + 3) * 60_000,
  );
});
