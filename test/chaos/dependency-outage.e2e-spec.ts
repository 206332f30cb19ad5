import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { createConnection } from 'mysql2/promise';
import { AppProcess, startApp } from '../support/app-process';
import { FaultMode, FaultProxy, startFaultProxy } from '../support/fault-proxy';
import { makePng } from '../support/images';
import { postJson, upload } from '../support/http';
import { createTestMysqlDatabase, describeWithMysql, TestMysqlDatabase } from '../support/mysql';
import { S3TestServer, startS3rver } from '../support/s3rver';
import {
  CHAOS_DEADLINE_MS,
  CHAOS_RESILIENCE_ENV,
  CHAOS_START_TIMEOUT_MS,
  secondsUntil,
} from './chaos-env';

/** A 503 must come within the deadline plus this much (process, HTTP, a loaded CI machine). */
const SLACK_MS = 1500;
const CACHED_KEYS = 12;

type Target = 'storage' | 'database';
/** "stalled" = the proxy stops forwarding on every connection, open ones included. */
const FAULTS: { target: Target; mode: FaultMode; label: string }[] = [
  { target: 'storage', mode: 'blackhole', label: 'S3 stalled' },
  { target: 'storage', mode: 'refuse', label: 'S3 refusing' },
  { target: 'database', mode: 'blackhole', label: 'database stalled' },
  { target: 'database', mode: 'refuse', label: 'database refusing' },
];

/**
 * The app in its production shape (MariaDB + an S3-protocol server), each dependency behind a
 * fault proxy. For each fault: uploads, uncached reads (and list_keys when the database is out)
 * answer 503 + Retry-After in the failure shape within the deadline; every cached image is still
 * served; readiness says 503 while liveness says 200; the breaker shows on /metrics; and it all
 * recovers without a restart once the proxy passes again. Figures are printed for the notes.
 */
describeWithMysql('chaos: S3 and database outages', () => {
  let db: TestMysqlDatabase;
  let s3: S3TestServer;
  let proxies: Record<Target, FaultProxy>;
  let app: AppProcess;
  const cached = new Map<string, Buffer>();
  const figures: string[] = [];

  beforeAll(async () => {
    [db, s3] = await Promise.all([createTestMysqlDatabase(), startS3rver()]);
    const dbUrl = new URL(db.url);
    const s3Url = new URL(s3.endpoint);
    proxies = {
      database: await startFaultProxy({
        target: { host: dbUrl.hostname, port: Number(dbUrl.port || 3306) },
      }),
      storage: await startFaultProxy({
        target: { host: s3Url.hostname, port: Number(s3Url.port) },
      }),
    };
    dbUrl.host = proxies.database.address;
    app = await startApp({
      env: {
        ...db.env,
        ...s3.env,
        PIXPOOL_DATABASE_URL: dbUrl.toString(),
        PIXPOOL_STORAGE_ENDPOINT: `http://${proxies.storage.address}`,
        ...CHAOS_RESILIENCE_ENV,
      },
      startTimeoutMs: CHAOS_START_TIMEOUT_MS,
    });
    for (let i = 0; i < CACHED_KEYS; i++) {
      const png = makePng(3000);
      expect((await upload(app.url, `cached-${i}`, png)).status).toBe(200);
      cached.set(`cached-${i}`, png);
      await fetch(`${app.url}/images/cached-${i}`).then((r) => r.arrayBuffer()); // fills the node
    }
  }, 150_000);

  afterAll(async () => {
    console.log(`chaos figures:\n${figures.join('\n')}`);
    await app?.stop();
    await Promise.all([proxies?.database.close(), proxies?.storage.close()]);
    await Promise.all([db?.drop(), s3?.stop()]);
  });

  async function timed<T>(call: () => Promise<T>): Promise<{ ms: number; value: T }> {
    const started = Date.now();
    const value = await call();
    return { ms: Date.now() - started, value };
  }

  async function expect503(what: string, call: () => Promise<Response>): Promise<number> {
    const { ms, value: res } = await timed(call);
    const body = (await res.json()) as Record<string, unknown>;
    expect({ what, status: res.status, body }).toEqual({
      what,
      status: 503,
      body: {
        success: 'false',
        error: { code: 503, message: expect.stringMatching(/unavailable/) },
      },
    });
    expect(res.headers.get('retry-after')).toBe('2');
    expect(ms).toBeLessThan(CHAOS_DEADLINE_MS + SLACK_MS);
    return ms;
  }

  const uploadRequest = (key: string) => {
    const form = new FormData();
    form.append('key', key);
    form.append('file', new Blob([new Uint8Array(makePng(2000))]), 'a.png');
    return fetch(`${app.url}/api/upload`, { method: 'POST', body: form });
  };

  async function expectCachedReadsServed(): Promise<void> {
    let served = 0;
    for (const [key, png] of cached) {
      const res = await fetch(`${app.url}/images/${key}`);
      const body = Buffer.from(await res.arrayBuffer());
      if (res.status === 200 && body.equals(png)) served += 1;
    }
    expect(served).toBe(CACHED_KEYS);
  }

  async function breakerState(dependency: Target): Promise<number> {
    const text = await (await fetch(`${app.url}/metrics`)).text();
    const match = new RegExp(
      `pixpool_dependency_breaker_state\\{dependency="${dependency}"\\} (\\d)`,
    ).exec(text);
    return Number(match?.[1]);
  }

  /** The same breaker as the dashboard's dependencies card shows it. */
  async function dashboardBreaker(dependency: Target): Promise<string | undefined> {
    const view = (await (await fetch(`${app.url}/api/manager/dependencies`)).json()) as {
      dependencies: Array<{ dependency: string; breaker: string }>;
    };
    return view.dependencies.find((d) => d.dependency === dependency)?.breaker;
  }

  it.each(FAULTS)(
    '$label: 503 within the deadline, cached reads served, recovery without restart',
    async ({ target, mode, label }) => {
      const uncachedKey = `uncached-${target}-${mode}`;
      expect((await upload(app.url, uncachedKey, makePng(2000))).status).toBe(200);

      await proxies[target].set(mode);
      const uploadMs = await expect503('upload', () => uploadRequest(`new-${target}-${mode}`));
      const readMs = await expect503('uncached read', () =>
        fetch(`${app.url}/images/${uncachedKey}`),
      );
      const courseReadMs = await expect503('course read', () =>
        fetch(`${app.url}/api/key/${uncachedKey}`, { method: 'POST' }),
      );
      if (target === 'database') {
        await expect503('list_keys', () => fetch(`${app.url}/api/list_keys`, { method: 'POST' }));
      } else {
        expect((await postJson(`${app.url}/api/list_keys`)).status).toBe(200);
      }
      await expectCachedReadsServed();
      const ready = await timed(() => fetch(`${app.url}/health/ready`));
      expect(ready.value.status).toBe(503);
      expect(ready.ms).toBeLessThan(CHAOS_DEADLINE_MS + SLACK_MS);
      expect((await fetch(`${app.url}/health/live`)).status).toBe(200);
      // Repeated failures opened the breaker: further answers come at once.
      expect(await breakerState(target)).toBeGreaterThan(0);
      expect(await dashboardBreaker(target)).not.toBe('closed');
      const fastMs = await expect503('upload, breaker open', () => uploadRequest('fast'));

      await proxies[target].set('pass');
      const recovery = await secondsUntil(
        async () => (await upload(app.url, `back-${target}-${mode}`, makePng(2000))).status === 200,
      );
      expect((await fetch(`${app.url}/images/${uncachedKey}`)).status).toBe(200);
      expect((await fetch(`${app.url}/health/ready`)).status).toBe(200);
      expect(await breakerState(target)).toBe(0);
      expect(await dashboardBreaker(target)).toBe('closed');
      await expectCachedReadsServed();
      figures.push(
        `${label}: 503 upload ${uploadMs} ms, uncached read ${readMs} ms, course read ` +
          `${courseReadMs} ms, with breaker open ${fastMs} ms; cached reads ${CACHED_KEYS}/${CACHED_KEYS}; ` +
          `recovered ${recovery.toFixed(2)} s after the fault ended`,
      );
    },
    30_000,
  );

  it('leaves nothing half-written: after the grace, every object is named by a row', async () => {
    const named = async () => {
      const connection = await createConnection(db.url);
      try {
        const [rows] = await connection.query('SELECT objectName FROM images');
        return new Set((rows as { objectName: string }[]).map((r) => r.objectName));
      } finally {
        await connection.end();
      }
    };
    const stored = async () =>
      (
        (await s3.client().send(new ListObjectsV2Command({ Bucket: s3.bucket }))).Contents ?? []
      ).map((o) => o.Key ?? '');
    const seconds = await secondsUntil(async () => {
      const [rows, objects] = await Promise.all([named(), stored()]);
      return objects.length === rows.size && objects.every((o) => rows.has(o));
    }, 15_000);
    figures.push(`orphans gone ${seconds.toFixed(1)} s after the last fault (grace 4 s)`);
  }, 20_000);
});
