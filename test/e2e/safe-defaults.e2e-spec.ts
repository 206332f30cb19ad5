import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { AppProcess, startApp } from '../support/app-process';
import { makePng } from '../support/images';
import { postJson, rawRequest, upload } from '../support/http';

const MAIN = path.resolve(__dirname, '..', '..', 'dist', 'src', 'main.js');

/** Starts the built app with these settings and expects it to refuse: exit code and message. */
function refusedStart(env: Record<string, string>) {
  const run = spawnSync(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', PIXPOOL_SERVER_PORT: '0', ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: run.status, message: run.stderr + run.stdout };
}

/** This machine's first address that is not loopback: a caller from there is "remote". */
function externalAddress(): string {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const address of list ?? [])
      if (!address.internal && address.family === 'IPv4') return address.address;
  }
  throw new Error('this test needs a network interface besides loopback');
}

describe('safe defaults (real app)', () => {
  it.each([
    [
      'listening on 0.0.0.0 without an admin token',
      { PIXPOOL_SERVER_HOST: '0.0.0.0' },
      /server\.host: refusing to listen on 0\.0\.0\.0 \(beyond loopback\) without security\.adminToken.*security\.allowInsecureNetwork/,
    ],
    [
      'the static provider without a node secret',
      { PIXPOOL_POOL_PROVIDER: 'static', PIXPOOL_POOL_STATIC_NODES: '127.0.0.1:1' },
      /security\.nodeSecret: required when pool\.provider is static/,
    ],
    [
      'the EC2 provider without a node secret',
      { PIXPOOL_POOL_PROVIDER: 'ec2' },
      /security\.nodeSecret: required when pool\.provider is ec2/,
    ],
    [
      'a key length limit above the key column',
      { PIXPOOL_SERVER_MAX_KEY_LENGTH: '300' },
      /server\.maxKeyLength: must not exceed 255, the length of the key column/,
    ],
  ])('refuses to start with %s, naming the setting', (_name, env, message) => {
    const run = refusedStart(env);
    expect(run.status).toBe(2);
    expect(run.message).toMatch(message);
  });

  describe('with the defaults', () => {
    let app: AppProcess;
    beforeAll(async () => {
      app = await startApp();
    });
    afterAll(async () => {
      await app?.stop();
    });

    it("local nodes refuse a caller without this run's secret, while the app reads through them", async () => {
      const nodeUrl = `http://127.0.0.1:${app.env.PIXPOOL_POOL_BASE_PORT}`;
      expect((await rawRequest(`${nodeUrl}/v1/config`)).status).toBe(401);
      const put = await rawRequest(`${nodeUrl}/v1/keys/k?region=0&version=1`, {
        method: 'PUT',
        headers: { 'Content-Type': 'text/html' },
        body: '<script>alert(1)</script>',
      });
      expect(put.status).toBe(401);

      expect((await upload(app.url, 'cat', makePng(500))).status).toBe(200);
      await fetch(`${app.url}/images/cat`);
      const hit = await fetch(`${app.url}/images/cat`);
      expect(hit.headers.get('x-cache')).toBe('HIT');
      // \b: the output holds process ids and ports, and a pid like 14016 contains "401".
      expect(app.output()).not.toMatch(/unexpected answer|\b401\b/);
    });

    it('image answers are sandboxed and never sniffed', async () => {
      await upload(app.url, 'dog', makePng(500));
      const res = await fetch(`${app.url}/images/dog`);
      expect(res.headers.get('content-type')).toBe('image/png');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('content-security-policy')).toMatch(/^sandbox/);
    });

    it.each([
      ['/api/delete_all', 'POST'],
      ['/api/configure_cache?numNodes=2', 'POST'],
      ['/api/clear/data', 'DELETE'],
      ['/api/clear/cache', 'DELETE'],
      ['/api/manager/pool/grow', 'POST'],
      ['/api/manager/pool/shrink', 'POST'],
      ['/api/manager/pool/size', 'PUT'],
      ['/api/manager/cache/clear', 'POST'],
      ['/api/manager/data', 'DELETE'],
    ])('GET %s is refused with 405, Allow: %s, and changes nothing', async (route, allow) => {
      await upload(app.url, 'kept', makePng(300));
      const res = await rawRequest(`${app.url}${route}`);
      expect(res.status).toBe(405);
      expect(res.headers.allow).toBe(allow);
      expect(res.json()).toMatchObject({ success: 'false', error: { code: 405 } });
      expect((await postJson(`${app.url}/api/getNumNodes`)).body.numNodes).toBe(1);
      expect((await fetch(`${app.url}/images/kept`)).status).toBe(200);
    });

    it('keys are stored in NFC, and invisible format characters are refused with 400', async () => {
      expect((await upload(app.url, 'cafe\u0301', makePng(300))).status).toBe(200);
      const composed = await postJson(`${app.url}/api/key/${encodeURIComponent('caf\u00e9')}`);
      expect(composed.body).toMatchObject({ success: 'true', key: 'caf\u00e9' });
      for (const key of ['evil\u202egnp.exe', 'zero\u200bwidth', '\ufeffbom', 'rtl\u2067isolate']) {
        const res = await upload(app.url, key, makePng(300));
        expect(res).toEqual({
          status: 400,
          body: {
            success: 'false',
            error: { code: 400, message: expect.stringMatching(/invisible format characters/) },
          },
        });
      }
    });
  });

  describe('on a network, with an admin token', () => {
    const TOKEN = 'net-admin-token-padded-to-32-characters';
    let app: AppProcess;
    let remote: string;
    beforeAll(async () => {
      app = await startApp({
        env: { PIXPOOL_SERVER_HOST: '0.0.0.0', PIXPOOL_SECURITY_ADMIN_TOKEN: TOKEN },
      });
      remote = app.url.replace('127.0.0.1', externalAddress());
    });
    afterAll(async () => {
      await app?.stop();
    });
    const auth = { Authorization: `Bearer ${TOKEN}` };

    it('/health tells remote callers the status only, and admin callers which part and why', async () => {
      const open = await fetch(`${remote}/health`);
      expect(open.status).toBe(200);
      expect(await open.json()).toEqual({ status: 'ok' });
      const admin = await fetch(`${remote}/health`, { headers: auth });
      expect(await admin.json()).toMatchObject({
        status: 'ok',
        info: { database: { status: 'up' } },
      });
    });

    it('/metrics needs the token', async () => {
      expect((await fetch(`${remote}/metrics`)).status).toBe(401);
      const scraped = await fetch(`${remote}/metrics`, { headers: auth });
      expect(scraped.status).toBe(200);
      expect(await scraped.text()).toMatch(/pixpool_/);
    });

    it('starts on 0.0.0.0 without a token only with the explicit opt-out, and warns', async () => {
      const open = await startApp({
        env: { PIXPOOL_SERVER_HOST: '0.0.0.0', PIXPOOL_SECURITY_ALLOW_INSECURE_NETWORK: 'true' },
      });
      try {
        const deadline = Date.now() + 3000;
        while (!/allowInsecureNetwork is on/.test(open.output()) && Date.now() < deadline)
          await new Promise((resolve) => setTimeout(resolve, 50));
        expect(open.output()).toMatch(/security\.allowInsecureNetwork is on/);
      } finally {
        await open.stop();
      }
    });
  });
});
