import { AppProcess, startApp } from '../support/app-process';
import { makePng } from '../support/images';
import { postJson, upload } from '../support/http';

/**
 * What a public deployment adds to the course API: a write credential, per-client rate limits on
 * uploads and listings, a storage quota and paginated listings. The course behaviour (anyone on
 * loopback uploads and lists everything) stays the default: see the other e2e suites.
 */
const WRITE_TOKEN = 'who-may-write-upload-token-0123456789abcdef';
const ADMIN_TOKEN = 'who-may-write-admin-token-0123456789abcdef';
const from = (client: string) => ({ 'X-Forwarded-For': client });

describe('who may write (real app)', () => {
  describe('with a write token and rate limits', () => {
    let app: AppProcess;
    beforeAll(async () => {
      app = await startApp({
        env: {
          PIXPOOL_SECURITY_WRITE_TOKEN: WRITE_TOKEN,
          PIXPOOL_SECURITY_ADMIN_TOKEN: ADMIN_TOKEN,
          PIXPOOL_SERVER_TRUST_PROXY: 'loopback',
          PIXPOOL_RATE_LIMITS_UPLOADS_PER_MINUTE: '1',
          PIXPOOL_RATE_LIMITS_UPLOAD_BURST: '3',
          PIXPOOL_RATE_LIMITS_LISTINGS_PER_MINUTE: '1',
          PIXPOOL_RATE_LIMITS_LISTING_BURST: '2',
        },
      });
    });
    afterAll(async () => {
      await app?.stop();
    });

    it('refuses an upload without the write token (401) and stores nothing', async () => {
      const bare = await upload(app.url, 'anon', makePng(300), 'a.png', from('198.51.100.1'));
      const wrong = await upload(app.url, 'anon', makePng(300), 'a.png', {
        ...from('198.51.100.1'),
        Authorization: 'Bearer not-the-token',
      });
      for (const res of [bare, wrong]) {
        expect(res.status).toBe(401);
        expect(res.body).toMatchObject({
          success: 'false',
          error: { code: 401, message: expect.stringMatching(/write token/) },
        });
      }
      expect((await fetch(`${app.url}/images/anon`)).status).toBe(404);
    });

    it('accepts the write token, and the admin token, for uploads', async () => {
      const write = { ...from('198.51.100.2'), Authorization: `Bearer ${WRITE_TOKEN}` };
      const admin = { ...from('198.51.100.3'), Authorization: `Bearer ${ADMIN_TOKEN}` };
      expect(await upload(app.url, 'signed', makePng(300), 'a.png', write)).toEqual({
        status: 200,
        body: { success: 'true', key: 'signed' },
      });
      expect((await upload(app.url, 'by-admin', makePng(300), 'a.png', admin)).status).toBe(200);
    });

    it('limits each client to its burst of uploads, then 429 with Retry-After; others go on', async () => {
      const client = { ...from('198.51.100.4'), Authorization: `Bearer ${WRITE_TOKEN}` };
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        statuses.push((await upload(app.url, `burst-${i}`, makePng(300), 'a.png', client)).status);
      }
      expect(statuses).toEqual([200, 200, 200, 429]);
      const form = new FormData();
      form.append('key', 'burst-4');
      form.append('file', new Blob([new Uint8Array(makePng(300))]), 'a.png');
      const limited = await fetch(`${app.url}/api/upload`, {
        method: 'POST',
        body: form,
        headers: client,
      });
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(60);
      expect(await limited.json()).toMatchObject({
        success: 'false',
        error: { code: 429, message: expect.stringMatching(/uploads.*retry/i) },
      });
      expect((await fetch(`${app.url}/images/burst-3`)).status).toBe(404);
      const other = { ...from('198.51.100.5'), Authorization: `Bearer ${WRITE_TOKEN}` };
      expect((await upload(app.url, 'other', makePng(300), 'a.png', other)).status).toBe(200);
    });

    it('limits listings per client as well', async () => {
      const list = (client: string) =>
        fetch(`${app.url}/api/list_keys`, { method: 'POST', headers: from(client) });
      const answers = [];
      for (let i = 0; i < 3; i++) answers.push(await list('198.51.100.6'));
      expect(answers.map((a) => a.status)).toEqual([200, 200, 429]);
      expect(Number(answers[2].headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect((await list('198.51.100.7')).status).toBe(200);
    });
  });

  describe('with a storage quota and a listing bound', () => {
    let app: AppProcess;
    const image = makePng(40_000);
    beforeAll(async () => {
      app = await startApp({
        env: {
          PIXPOOL_STORAGE_QUOTA_BYTES: String(image.length * 2 + 1000),
          PIXPOOL_SERVER_LIST_KEYS_MAX: '3',
        },
      });
    });
    afterAll(async () => {
      await app?.stop();
    });

    it('refuses an upload beyond the quota with 507 and stores nothing; replacing a key fits', async () => {
      expect((await upload(app.url, 'q1', image)).status).toBe(200);
      expect((await upload(app.url, 'q2', image)).status).toBe(200);
      const over = await upload(app.url, 'q3', image);
      expect(over).toEqual({
        status: 507,
        body: {
          success: 'false',
          error: { code: 507, message: expect.stringMatching(/storage quota/) },
        },
      });
      expect((await fetch(`${app.url}/images/q3`)).status).toBe(404);
      // Replacing q1 frees its old bytes: the total stays within the quota.
      expect((await upload(app.url, 'q1', makePng(40_000))).status).toBe(200);
    });

    it('pages list_keys with limit and after, and bounds the unpaginated answer', async () => {
      for (const key of ['a', 'b', 'c', 'd']) {
        expect((await upload(app.url, key, makePng(100))).status).toBe(200);
      }
      // q1, q2 and a..d: 6 keys, more than server.listKeysMax (3).
      const first = await postJson(`${app.url}/api/list_keys`);
      expect(first.body).toEqual({ success: 'true', keys: ['a', 'b', 'c'], next: 'c' });
      const page = await postJson(`${app.url}/api/list_keys?limit=2&after=c`);
      expect(page.body).toEqual({ success: 'true', keys: ['d', 'q1'], next: 'q1' });
      const last = await postJson(`${app.url}/api/list_keys?limit=2&after=q1`);
      expect(last.body).toEqual({ success: 'true', keys: ['q2'] });
      const bad = await postJson(`${app.url}/api/list_keys?limit=0`);
      expect(bad.status).toBe(400);
      expect((await postJson(`${app.url}/api/list_keys?limit=4`)).status).toBe(400);
    });
  });
});
