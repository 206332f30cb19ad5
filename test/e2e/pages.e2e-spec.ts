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
});
