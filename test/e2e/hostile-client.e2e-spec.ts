import { AppProcess, startApp } from '../support/app-process';
import { makePng } from '../support/images';
import { rawRequest, upload } from '../support/http';

/**
 * An attacker on the internet reaches the app through a reverse proxy on the same host (every
 * request arrives from loopback), or drives the operator's browser: a cross-site page that posts
 * to the app, or one that rebinds its own name to the app's address (DNS rebinding). Each attack
 * is refused and changes nothing, while course clients (no browser headers) keep working.
 */

interface Operation {
  method: string;
  path: string;
}

/** Every route the app marks as needing the admin credential, read from its OpenAPI document. */
async function adminRoutes(url: string): Promise<Operation[]> {
  const doc = (await (await fetch(`${url}/api/docs-json`)).json()) as {
    paths: Record<string, Record<string, { security?: unknown[] }>>;
  };
  const routes: Operation[] = [];
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      if (operation.security?.length) {
        routes.push({ method: method.toUpperCase(), path: path.replace(/\{[^}]+\}/g, 'x') });
      }
    }
  }
  return routes;
}

/** Status of each route, keyed "METHOD path", for one assertion that names every failure. */
async function statuses(url: string, routes: Operation[], headers: Record<string, string>) {
  const result: Record<string, number> = {};
  for (const route of routes) {
    const res = await rawRequest(`${url}${route.path}`, { method: route.method, headers });
    result[`${route.method} ${route.path}`] = res.status;
  }
  return result;
}

function everyRoute(routes: Operation[], status: number): Record<string, number> {
  return Object.fromEntries(routes.map((r) => [`${r.method} ${r.path}`, status]));
}

const KNOWN_ADMIN = [
  'POST /api/delete_all',
  'POST /api/configure_cache',
  'DELETE /api/clear/data',
  'POST /api/notify',
  'GET /metrics',
  'POST /api/manager/pool/grow',
  'DELETE /api/manager/data',
];
const FORWARDED_FOR = { 'X-Forwarded-For': '203.0.113.7' };
const ATTACKER = 'https://attacker.example';

describe('hostile clients (real app)', () => {
  describe('without an admin token (loopback trusted)', () => {
    let app: AppProcess;
    let routes: Operation[];
    beforeAll(async () => {
      app = await startApp();
      routes = await adminRoutes(app.url);
    });
    afterAll(async () => {
      await app?.stop();
    });

    async function stillStored(key: string): Promise<boolean> {
      return (await fetch(`${app.url}/images/${key}`)).status === 200;
    }

    it('says at start who counts as admin', () => {
      expect(app.output()).toMatch(
        /admin routes answer loopback callers whose request carries no forwarding header/,
      );
    });

    it('finds every admin route in the app (not a hand-picked few)', () => {
      const names = routes.map((r) => `${r.method} ${r.path}`);
      for (const name of KNOWN_ADMIN) expect(names).toContain(name);
      expect(names.length).toBeGreaterThanOrEqual(20);
    });

    it('refuses a proxy-forwarded request on every admin route, with each forwarding header', async () => {
      expect(await statuses(app.url, routes, FORWARDED_FOR)).toEqual(everyRoute(routes, 403));
      const two = routes.filter((r) =>
        ['POST /api/delete_all', 'GET /metrics'].includes(`${r.method} ${r.path}`),
      );
      expect(await statuses(app.url, two, { Forwarded: 'for=203.0.113.7' })).toEqual(
        everyRoute(two, 403),
      );
      expect(await statuses(app.url, two, { 'X-Real-IP': '203.0.113.7' })).toEqual(
        everyRoute(two, 403),
      );
    });

    it('refuses a cross-site POST (Sec-Fetch-Site, or Origin alone) and deletes nothing', async () => {
      expect((await upload(app.url, 'kept', makePng(300))).status).toBe(200);
      const bySite = await rawRequest(`${app.url}/api/delete_all`, {
        method: 'POST',
        headers: { Origin: ATTACKER, 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'no-cors' },
      });
      const byOrigin = await rawRequest(`${app.url}/api/delete_all`, {
        method: 'POST',
        headers: { Origin: ATTACKER },
      });
      const sameSite = await rawRequest(`${app.url}/api/configure_cache?numNodes=2`, {
        method: 'POST',
        headers: { 'Sec-Fetch-Site': 'same-site', 'Sec-Fetch-Mode': 'no-cors' },
      });
      for (const res of [bySite, byOrigin, sameSite]) {
        expect(res.status).toBe(403);
        expect(res.json()).toMatchObject({
          success: 'false',
          error: { code: 403, message: expect.stringMatching(/cross-site/) },
        });
      }
      const upload2 = await rawRequest(`${app.url}/api/upload`, {
        method: 'POST',
        headers: {
          'Content-Type': 'multipart/form-data; boundary=x',
          Origin: ATTACKER,
          'Sec-Fetch-Site': 'cross-site',
        },
        body: '--x--\r\n',
      });
      expect(upload2.status).toBe(403);
      expect(await stillStored('kept')).toBe(true);
    });

    it("refuses a browser's state change without the pages' X-Pixpool-Client header", async () => {
      const url = `${app.url}/api/configure_cache`;
      const browser = {
        Origin: app.url,
        'Sec-Fetch-Site': 'same-origin',
        'Sec-Fetch-Mode': 'cors',
      };
      const bare = await rawRequest(url, { method: 'POST', headers: browser });
      expect(bare.status).toBe(403);
      expect(bare.json()).toMatchObject({
        error: { message: expect.stringMatching(/X-Pixpool-Client/) },
      });
      const marked = await rawRequest(url, {
        method: 'POST',
        headers: { ...browser, 'X-Pixpool-Client': 'dashboard' },
      });
      expect(marked.status).toBe(200);
    });

    it('keeps course clients working: no browser headers, loopback, no token', async () => {
      const res = await rawRequest(`${app.url}/api/configure_cache`, { method: 'POST' });
      expect(res.status).toBe(200);
      expect(res.json()).toMatchObject({ success: 'true', numNodes: 1 });
      expect((await upload(app.url, 'course', makePng(300))).status).toBe(200);
    });

    it('refuses a foreign Host (DNS rebinding) on pages, the API and images', async () => {
      expect((await upload(app.url, 'rebound', makePng(300))).status).toBe(200);
      const port = new URL(app.url).port;
      for (const [method, path] of [
        ['GET', '/manager'],
        ['GET', '/api/manager/pool'],
        ['GET', '/images/rebound'],
        ['POST', '/api/list_keys'],
        ['POST', '/api/delete_all'],
      ]) {
        const res = await rawRequest(`${app.url}${path}`, {
          method,
          headers: { Host: `attacker.example:${port}` },
        });
        expect([method, path, res.status]).toEqual([method, path, 403]);
        expect(res.json()).toMatchObject({
          success: 'false',
          error: { message: expect.stringMatching(/Host attacker\.example/) },
        });
      }
      expect(await stillStored('rebound')).toBe(true);
      for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]) {
        const res = await rawRequest(`${app.url}/api/manager/pool`, { headers: { Host: host } });
        expect([host, res.status]).toEqual([host, 200]);
      }
    });
  });

  describe('with an admin token and a public name', () => {
    const TOKEN = 'hostile-client-admin-token-0123456789abcdef';
    let app: AppProcess;
    let routes: Operation[];
    beforeAll(async () => {
      app = await startApp({
        env: {
          PIXPOOL_SECURITY_ADMIN_TOKEN: TOKEN,
          PIXPOOL_SECURITY_ALLOWED_HOSTS: 'images.example.org',
          PIXPOOL_SECURITY_TLS_IN_FRONT: 'true',
        },
      });
      routes = await adminRoutes(app.url);
    });
    afterAll(async () => {
      await app?.stop();
    });

    it('answers 401 to a proxy-forwarded request without the token on every admin route', async () => {
      const headers = { ...FORWARDED_FOR, Host: 'images.example.org' };
      expect(await statuses(app.url, routes, headers)).toEqual(everyRoute(routes, 401));
    });

    it('serves its public name and refuses others', async () => {
      const auth = { Authorization: `Bearer ${TOKEN}` };
      const ours = await rawRequest(`${app.url}/api/manager/pool`, {
        headers: { ...auth, Host: 'Images.Example.org' },
      });
      const foreign = await rawRequest(`${app.url}/api/manager/pool`, {
        headers: { ...auth, Host: 'images.example.org.attacker.example' },
      });
      expect([ours.status, foreign.status]).toEqual([200, 403]);
    });

    it('pages tell browsers to keep to HTTPS when TLS is terminated in front', async () => {
      const page = await rawRequest(`${app.url}/manager`, {
        headers: { Host: 'images.example.org' },
      });
      expect(page.status).toBe(200);
      expect(page.headers['strict-transport-security']).toBe('max-age=31536000');
      expect(page.headers['x-frame-options']).toBe('DENY');
    });
  });
});
