import { connect, type Socket } from 'node:net';
import { AppProcess, startApp } from '../support/app-process';
import { countBlobs } from '../support/blobs';
import { makePng } from '../support/images';
import { postJson, upload } from '../support/http';
import { eventuallyAsync } from '../support/eventually';
import { spawnCacheNode, type SpawnedCacheNode } from '../support/spawn-cache-node';

// Short bounds so the test takes seconds; the defaults (20 s, 120 s) work the same way.
const HEADERS_TIMEOUT_MS = 1500;
const REQUEST_TIMEOUT_MS = 3000;
/** Node checks the timeouts every quarter bound (see server-limits.ts), plus scheduling on a busy machine. */
const SLACK_MS = 2500;

interface Held {
  socket: Socket;
  openedAt: number;
  closedAt?: number;
  received: string;
}

/** Opens a connection and sends `first`; the caller trickles the rest. */
function hold(url: string, first: string): Promise<Held> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const held: Held = { socket, openedAt: Date.now(), received: '' };
    socket.on('data', (chunk: Buffer) => (held.received += chunk.toString('latin1')));
    socket.on('close', () => (held.closedAt = Date.now()));
    socket.on('error', () => undefined);
    socket.once('connect', () => {
      socket.write(first);
      resolve(held);
    });
    socket.once('error', reject);
  });
}

/** One byte every `everyMs` on each still-open connection, until stopped. */
function trickle(held: Held[], byte: string, everyMs: number): () => void {
  const timer = setInterval(() => {
    for (const h of held) if (h.closedAt === undefined) h.socket.write(byte);
  }, everyMs);
  return () => clearInterval(timer);
}

async function until(check: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
}

/** A request on a fresh connection: refused (or cut) → false; answered → true. */
async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, {
      headers: { connection: 'close' },
      signal: AbortSignal.timeout(1000),
    });
    await res.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

/**
 * The status of an upload without a file: 400 while an upload slot is free (bad input, nothing
 * written), 503 while every slot is taken. Lets the test watch the slots without storing a thing.
 */
async function emptyUploadStatus(baseUrl: string): Promise<number> {
  const form = new FormData();
  form.append('key', 'probe');
  const res = await fetch(`${baseUrl}/api/upload`, { method: 'POST', body: form });
  await res.arrayBuffer();
  return res.status;
}

/** Sequential requests on fresh connections; their median latency in ms. */
async function medianLatency(url: string, count: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const res = await fetch(url, { headers: { connection: 'close' } });
    await res.arrayBuffer();
    expect(res.status).toBe(200);
    times.push(performance.now() - started);
    await new Promise((r) => setTimeout(r, 20));
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/**
 * 500 connections each sending a header a byte at a time (slowloris): normal requests keep being
 * answered quickly, and every slow connection is answered 408 and closed within the bound.
 */
async function expectSlowHeadersContained(baseUrl: string, normalPath: string): Promise<void> {
  const held: Held[] = [];
  for (let i = 0; i < 500; i += 50) {
    held.push(
      ...(await Promise.all(
        Array.from({ length: 50 }, () => hold(baseUrl, 'GET /health HTTP/1.1\r\nX-Slow: ')),
      )),
    );
  }
  const stop = trickle(held, 'a', 250);
  try {
    const p50 = await medianLatency(`${baseUrl}${normalPath}`, 30);
    expect(p50).toBeLessThan(100);
    await until(
      () => held.every((h) => h.closedAt !== undefined),
      HEADERS_TIMEOUT_MS + SLACK_MS * 2,
    );
  } finally {
    stop();
  }
  const lifetimes = held.map((h) => (h.closedAt ?? Infinity) - h.openedAt);
  expect(Math.max(...lifetimes)).toBeLessThan(HEADERS_TIMEOUT_MS + SLACK_MS);
  // Each is answered 408 before the close; a byte trickled into the closing socket can reset the
  // connection before that answer is read, so an empty read counts too, any other answer not.
  const answers = new Set(held.map((h) => h.received.slice(0, 'HTTP/1.1 408'.length)));
  expect([...answers].filter((a) => a !== '' && a !== 'HTTP/1.1 408')).toEqual([]);
  expect(held.filter((h) => h.received.startsWith('HTTP/1.1 408')).length).toBeGreaterThan(0);
}

describe('client limits (real app and node)', () => {
  describe('app with short request bounds', () => {
    let app: AppProcess;
    beforeAll(async () => {
      app = await startApp({
        env: {
          PIXPOOL_LIMITS_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
          PIXPOOL_LIMITS_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
        },
      });
    });
    afterAll(async () => {
      await app?.stop();
    });

    it('keeps answering (p50 < 100 ms) while 500 connections trickle headers, and closes them at the bound', async () => {
      await expectSlowHeadersContained(app.url, '/health');
    }, 60_000);

    it('cuts a trickled upload off at the request bound with 408, writing nothing', async () => {
      const png = makePng(50_000);
      const boundary = 'trickle';
      const head =
        `--${boundary}\r\nContent-Disposition: form-data; name="key"\r\n\r\nslow\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n` +
        'Content-Type: image/png\r\n\r\n';
      const length = head.length + png.length + `\r\n--${boundary}--\r\n`.length;
      const uploader = await hold(
        app.url,
        `POST /api/upload HTTP/1.1\r\nHost: localhost\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\n` +
          `Content-Length: ${length}\r\n\r\n${head}`,
      );
      let sent = 0;
      const timer = setInterval(() => {
        if (uploader.closedAt === undefined)
          uploader.socket.write(png.subarray(sent, (sent += 100)));
      }, 100);
      await until(() => uploader.closedAt !== undefined, REQUEST_TIMEOUT_MS + SLACK_MS * 2);
      clearInterval(timer);
      expect(uploader.closedAt! - uploader.openedAt).toBeLessThan(REQUEST_TIMEOUT_MS + SLACK_MS);
      expect(uploader.closedAt! - uploader.openedAt).toBeGreaterThanOrEqual(
        REQUEST_TIMEOUT_MS - 100,
      );
      expect(uploader.received).toMatch(/^HTTP\/1\.1 408 Request Timeout/);
      expect(uploader.received).toMatch(
        /\r\n\r\n\{"success":"false","error":\{"code":408,"message":"request not received in time.*limits\.requestTimeoutMs/,
      );
      expect((await postJson(`${app.url}/api/list_keys`)).body).toEqual({
        success: 'true',
        keys: [],
      });
      expect(countBlobs(app)).toBe(0);
      expect((await upload(app.url, 'fast', makePng(2000))).status).toBe(200);
    }, 30_000);
  });

  describe('app with a connection cap and an upload cap', () => {
    let app: AppProcess;
    beforeAll(async () => {
      app = await startApp({
        env: { PIXPOOL_LIMITS_MAX_CONNECTIONS: '20', PIXPOOL_LIMITS_MAX_CONCURRENT_UPLOADS: '2' },
      });
    });
    afterAll(async () => {
      await app?.stop();
    });

    it('refuses connections beyond the cap, and serves again once they close', async () => {
      const held = await Promise.all(Array.from({ length: 20 }, () => hold(app.url, '')));
      // Polled: the server counts a connection a moment after the client sees it open.
      await eventuallyAsync('a connection beyond the cap refused', async () => {
        return !(await answers(`${app.url}/health`));
      });
      for (const h of held) h.socket.destroy();
      await eventuallyAsync('connections served again', () => answers(`${app.url}/health`));
      expect((await fetch(`${app.url}/health`)).status).toBe(200);
    });

    it('answers 503 with Retry-After beyond the concurrent uploads, and takes uploads again after', async () => {
      const slow = await Promise.all(
        [0, 1].map(() =>
          hold(
            app.url,
            'POST /api/upload HTTP/1.1\r\nHost: localhost\r\nContent-Type: multipart/form-data; boundary=b\r\n' +
              'Content-Length: 100000\r\n\r\n--b\r\n',
          ),
        ),
      );
      await eventuallyAsync(
        'both slots taken',
        async () => (await emptyUploadStatus(app.url)) === 503,
      );
      const form = new FormData();
      form.append('key', 'third');
      form.append('file', new Blob([new Uint8Array(makePng(1000))]), 'a.png');
      const refused = await fetch(`${app.url}/api/upload`, { method: 'POST', body: form });
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(await refused.json()).toEqual({
        success: 'false',
        error: {
          code: 503,
          message: expect.stringMatching(/too many uploads in progress \(2 at once\)/),
        },
      });
      for (const h of slow) h.socket.destroy();
      await eventuallyAsync(
        'the slots freed',
        async () => (await emptyUploadStatus(app.url)) === 400,
      );
      expect((await upload(app.url, 'after', makePng(1000))).status).toBe(200);
      expect((await postJson(`${app.url}/api/list_keys`)).body.keys).toEqual(['after']);
    });
  });

  describe('cache node with short request bounds', () => {
    let node: SpawnedCacheNode;
    beforeAll(async () => {
      node = await spawnCacheNode({
        args: [
          '--headers-timeout-ms',
          String(HEADERS_TIMEOUT_MS),
          '--request-timeout-ms',
          String(REQUEST_TIMEOUT_MS),
        ],
      });
    });
    afterAll(async () => {
      await node?.stop();
    });

    it('keeps answering (p50 < 100 ms) while 500 connections trickle headers, and closes them at the bound', async () => {
      await expectSlowHeadersContained(node.url, '/health');
    }, 60_000);

    it('drops connections beyond its cap', async () => {
      const capped = await spawnCacheNode({ args: ['--max-connections', '5'] });
      try {
        const held = await Promise.all(Array.from({ length: 5 }, () => hold(capped.url, '')));
        await eventuallyAsync('a connection beyond the cap dropped', async () => {
          return !(await answers(`${capped.url}/health`));
        });
        for (const h of held) h.socket.destroy();
        await eventuallyAsync('connections served again', () => answers(`${capped.url}/health`));
        expect((await fetch(`${capped.url}/health`)).status).toBe(200);
      } finally {
        await capped.stop();
      }
    });
  });
});
