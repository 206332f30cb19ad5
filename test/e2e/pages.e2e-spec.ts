import type { Browser, Page } from 'playwright-core';
import { AppProcess, startApp } from '../support/app-process';
import { launchBrowser, tempFile } from '../support/browser';
import { makePng } from '../support/images';

describe('web pages in headless Chromium', () => {
  let app: AppProcess;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    [app, browser] = await Promise.all([startApp(), launchBrowser()]);
    page = await browser.newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('uploads through the form, lists the key with a thumbnail, and opens it', async () => {
    await page.goto(`${app.url}/`);
    await page.fill('#key', 'sunset');
    await page.setInputFiles('#file', tempFile('sunset.png', makePng(4000)));
    await page.click('button[type=submit]');
    await page.waitForSelector('#status.ok');
    expect(await page.textContent('#status')).toContain('Stored “sunset”');
    await page.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>('#preview');
      return !!img && !img.hidden && img.complete && img.naturalWidth > 0;
    });

    await page.goto(`${app.url}/browse`);
    const tile = page.locator('.tile[data-key="sunset"]');
    await tile.waitFor();
    await page.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>('.tile[data-key="sunset"] img');
      return !!img && img.complete && img.naturalWidth > 0;
    });
    expect(await page.textContent('#count')).toBe('1 of 1 keys');
    // The tile is a preset variant chosen from a srcset of every preset, in a format Chromium shows.
    const thumb = await page.$eval('.tile[data-key="sunset"] img', (img: HTMLImageElement) => ({
      srcset: img.srcset,
      current: img.currentSrc,
    }));
    expect(thumb.srcset).toContain('/images/sunset?preset=thumb&fmt=auto 320w');
    expect(thumb.srcset).toContain('/images/sunset?preset=small&fmt=auto 160w');
    expect(thumb.current).toMatch(/\/images\/sunset\?preset=\w+&fmt=auto$/);
    const variant = await page.request.get(thumb.current, {
      headers: { Accept: 'image/avif,image/webp,*/*' },
    });
    expect(variant.headers()['content-type']).toBe('image/avif');

    await tile.click();
    await page.waitForURL(/\/view\?key=sunset$/);
    await page.waitForSelector('#meta dd');
    expect(await page.textContent('#title')).toBe('sunset');
    expect(await page.textContent('#meta')).toContain('image/png');
    await page.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>('#image');
      return !!img && img.complete && img.naturalWidth > 0;
    });
  });

  it('shows the server’s reason when an upload is refused', async () => {
    await page.goto(`${app.url}/`);
    await page.fill('#key', 'notes');
    await page.setInputFiles('#file', tempFile('notes.txt', Buffer.from('just text')));
    await page.click('button[type=submit]');
    await page.waitForSelector('#status.error');
    expect(await page.textContent('#status')).toContain('not a supported image');
  });

  it('every page carries a strict CSP and runs under it without a violation', async () => {
    const violations: string[] = [];
    const watched = await browser.newPage();
    watched.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    await watched.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) =>
        console.error(`Content Security Policy violation: ${e.violatedDirective} ${e.blockedURI}`),
      );
    });
    for (const path of ['/', '/browse', '/view?key=sunset', '/manager', '/api/docs']) {
      const res = await watched.goto(`${app.url}${path}`);
      const headers = res!.headers();
      const csp = headers['content-security-policy'] ?? '';
      expect([path, csp]).toEqual([path, expect.stringMatching(/script-src 'self'(;|$)/)]);
      expect(csp).toMatch(/frame-ancestors 'none'/);
      expect(csp).toMatch(/default-src 'self'/);
      expect(headers['x-content-type-options']).toBe('nosniff');
      expect(headers['referrer-policy']).toBe('no-referrer');
      expect(headers['strict-transport-security']).toBeUndefined(); // TLS in front is not said
      await watched.waitForLoadState('networkidle');
    }
    // The dashboard's script ran under the policy: its charts and pool view are drawn.
    await watched.goto(`${app.url}/manager`);
    await watched.waitForFunction(() => document.querySelectorAll('canvas').length >= 6);
    await watched.waitForSelector('#regions :is(td, li, div)');
    expect(violations).toEqual([]);
    await watched.close();
  });
});

describe('upload page with a write token (headless Chromium)', () => {
  const WRITE_TOKEN = 'pages-e2e-write-token-0123456789abcdef01';
  let app: AppProcess;
  let browser: Browser;

  beforeAll(async () => {
    [app, browser] = await Promise.all([
      startApp({ env: { PIXPOOL_SECURITY_WRITE_TOKEN: WRITE_TOKEN } }),
      launchBrowser(),
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('asks for the write token on 401, then uploads with it', async () => {
    const page = await browser.newPage();
    await page.goto(`${app.url}/`);
    expect(await page.isHidden('#token-row')).toBe(true);
    await page.fill('#key', 'guarded');
    await page.setInputFiles('#file', tempFile('guarded.png', makePng(2000)));
    await page.click('button[type=submit]');
    await page.waitForSelector('#status.error');
    expect(await page.textContent('#status')).toContain('write token required');
    expect(await page.isVisible('#write-token')).toBe(true);

    await page.fill('#write-token', WRITE_TOKEN);
    await page.click('button[type=submit]');
    await page.waitForSelector('#status.ok');
    expect((await fetch(`${app.url}/images/guarded`)).status).toBe(200);
    await page.close();
  });
});
