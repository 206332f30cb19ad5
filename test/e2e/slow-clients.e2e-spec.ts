import { connect, type Socket } from 'node:net';
import * as fs from 'node:fs';
import { AppProcess, startApp } from '../support/app-process';
import { makePng } from '../support/images';
import { rawRequest, upload } from '../support/http';

/** Just under the 10 MiB upload limit: the largest image a client can make every reader hold. */
const BIG = makePng(10 * 1024 * 1024 - 64 * 1024);
const SMALL = makePng(20_000);
const GIB = 1024 * 1024 * 1024;

/** Resident memory of a process, from /proc (Linux). */
function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for ${pid}`);
  return Number(match[1]) * 1024;
}

interface StalledReader {
  socket: Socket;
  closedAt?: number;
  openedAt: number;
  /** What arrived once the reader is resumed (see readAll). */
  received: string;
}

/** Starts reading what the server sent (and sends), keeping the text. */
function readAll(reader: StalledReader): void {
  reader.socket.on('data', (chunk: Buffer) => (reader.received += chunk.toString('latin1')));
  reader.socket.resume();
}

/**
 * Sends one request and never reads the answer: the socket is paused before any byte arrives, so
 * the kernel buffers fill and everything else waits in the server.
 */
function stalledReader(
  baseUrl: string,
  request: string | Buffer,
  localAddress?: string,
): Promise<StalledReader> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect({ port: Number(port), host: hostname, localAddress });
    socket.pause();
    const reader: StalledReader = { socket, openedAt: Date.now(), received: '' };
    socket.on('close', () => (reader.closedAt = Date.now()));
    socket.once('connect', () => {
      socket.write(request);
      socket.on('error', () => undefined);
      resolve(reader);
    });
    socket.once('error', reject);
  });
}

const COURSE_READ = (key: string) =>
  `POST /api/key/${key} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n`;
const RAW_READ = (key: string) => `GET /images/${key} HTTP/1.1\r\nHost: localhost\r\n\r\n`;

/** Sequential reads of a small image on both read routes, on fresh connections; median in ms. */
async function medianReadMs(
  baseUrl: string,
  count: number,
  log: () => string = () => '',
): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const res =
      i % 2 === 0
        ? await fetch(`${baseUrl}/images/small`, { headers: { connection: 'close' } })
        : await fetch(`${baseUrl}/api/key/small`, {
            method: 'POST',
            headers: { connection: 'close' },
          });
    const body = await res.text();
    const why = res.status === 200 ? '' : `${body}\n${log().split('\n').slice(-40).join('\n')}`;
    expect(`${res.status} ${why}`).toBe('200 ');
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

async function until(check: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
}

/** The value of an unlabelled gauge in the app's /metrics. */
async function metric(baseUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  if (!match) throw new Error(`${name} missing from /metrics`);
  return Number(match[1]);
}

/** The course body, byte for byte, as JSON.stringify writes it. */
function courseBody(key: string, image: Buffer): string {
  return JSON.stringify({ success: 'true', key, content: image.toString('base64') });
}

describe('slow clients (real app and nodes)', () => {
  describe('readers that never read', () => {
    let app: AppProcess;
    beforeAll(async () => {
      // With the near cache on, every reader of a hot key shares one copy of its bytes; what a
      // reader holds beyond that copy is what this bounds.
      app = await startApp({ env: { PIXPOOL_NEAR_CACHE_CAPACITY_MB: '64' } });
      expect((await upload(app.url, 'big', BIG)).status).toBe(200);
      expect((await upload(app.url, 'small', SMALL)).status).toBe(200);
    }, 60_000);
    afterAll(async () => {
      await app?.stop();
    });

    it('300 stalled readers of a 10 MiB image on each read route keep RSS growth under 1 GiB while normal reads stay fast', async () => {
      // Warm both routes (near cache admitted, code paths compiled) before the baseline.
      for (let i = 0; i < 3; i++) {
        expect((await rawRequest(`${app.url}/images/big`)).status).toBe(200);
        expect((await rawRequest(`${app.url}/api/key/big`, { method: 'POST' })).status).toBe(200);
      }
      const baseline = rssBytes(app.pid());
      let peak = baseline;
      const sample = () => (peak = Math.max(peak, rssBytes(app.pid())));
      const stalled: StalledReader[] = [];
      try {
        for (let batch = 0; batch < 12; batch++) {
          stalled.push(
            ...(await Promise.all(
              Array.from({ length: 50 }, (_, i) =>
                stalledReader(app.url, i % 2 === 0 ? COURSE_READ('big') : RAW_READ('big')),
              ),
            )),
          );
          await new Promise((r) => setTimeout(r, 300));
          sample();
          // Stop early on the old code rather than push a shared machine into swap.
          expect(peak - baseline).toBeLessThan(GIB);
        }
        const sampler = setInterval(sample, 100);
        try {
          expect(await medianReadMs(app.url, 40, () => app.output())).toBeLessThan(100);
        } finally {
          clearInterval(sampler);
        }
        sample();
        expect(peak - baseline).toBeLessThan(GIB);
        // What the stalled readers hold is visible to the operator.
        expect(await metric(app.url, 'pixpool_response_bytes_held')).toBeGreaterThan(0);
        expect(await metric(app.url, 'pixpool_responses_waiting_on_client')).toBeGreaterThan(0);
      } finally {
        for (const s of stalled) s.socket.destroy();
      }
      const deadline = Date.now() + 10_000;
      while ((await metric(app.url, 'pixpool_response_bytes_held')) > 0) {
        if (Date.now() > deadline) throw new Error('stalled answers still held after their close');
        await new Promise((r) => setTimeout(r, 100));
      }
      // The course body is unchanged, byte for byte, once there is room again.
      const course = await rawRequest(`${app.url}/api/key/big`, { method: 'POST' });
      expect(course.status).toBe(200);
      expect(course.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(course.body.toString('utf8') === courseBody('big', BIG)).toBe(true);
      const raw = await rawRequest(`${app.url}/images/big`);
      expect(raw.status).toBe(200);
      expect(raw.body.equals(BIG)).toBe(true);
    }, 180_000);
  });

  describe('a reader that stops reading', () => {
    const IDLE_MS = 1500;
    let app: AppProcess;
    beforeAll(async () => {
      app = await startApp({
        env: { PIXPOOL_LIMITS_RESPONSE_IDLE_TIMEOUT_MS: String(IDLE_MS) },
      });
      expect((await upload(app.url, 'big', BIG)).status).toBe(200);
    }, 60_000);
    afterAll(async () => {
      await app?.stop();
    });

    it('is cut once it has taken nothing for limits.responseIdleTimeoutMs, on both read routes', async () => {
      const readers = await Promise.all([
        stalledReader(app.url, COURSE_READ('big')),
        stalledReader(app.url, RAW_READ('big')),
      ]);
      try {
        // The app lets go of both answers by itself (a paused client cannot see the close).
        const cutBy = Date.now() + IDLE_MS + 10_000;
        await until(() => Date.now() - readers[0].openedAt > IDLE_MS, IDLE_MS + 1000);
        while ((await metric(app.url, 'pixpool_response_bytes_held')) > 0) {
          if (Date.now() > cutBy) throw new Error('stalled answers still held past the idle bound');
          await new Promise((r) => setTimeout(r, 100));
        }
        // Reading now shows a cut connection: it ends before the whole answer arrived.
        for (const r of readers) readAll(r);
        await until(() => readers.every((r) => r.closedAt !== undefined), 10_000);
        expect(readers.map((r) => r.closedAt !== undefined)).toEqual([true, true]);
        expect(readers[0].received.length).toBeLessThan(courseBody('big', BIG).length);
        expect(readers[1].received.length).toBeLessThan(BIG.length);
        expect(readers.map((r) => r.received.slice(0, 12))).toEqual([
          'HTTP/1.1 200',
          'HTTP/1.1 200',
        ]);
      } finally {
        for (const r of readers) r.socket.destroy();
      }
    }, 30_000);

    it('keeps a reader that pauses for less than the bound, and its body arrives whole', async () => {
      const reader = await stalledReader(app.url, COURSE_READ('big'));
      let bytes = 0;
      reader.socket.on('data', (chunk: Buffer) => (bytes += chunk.length));
      // Reads in short bursts with pauses shorter than the bound, for longer than the bound in all.
      const startedAt = Date.now();
      for (let i = 0; i < 3; i++) {
        reader.socket.resume();
        await new Promise((r) => setTimeout(r, 20));
        reader.socket.pause();
        await new Promise((r) => setTimeout(r, (IDLE_MS * 2) / 3));
      }
      reader.socket.resume();
      await until(() => bytes >= courseBody('big', BIG).length, 20_000);
      expect(Date.now() - startedAt).toBeGreaterThan(IDLE_MS);
      expect(bytes).toBeGreaterThanOrEqual(courseBody('big', BIG).length);
      reader.socket.destroy();
    }, 60_000);
  });

  describe('uploaders that trickle', () => {
    const GRACE_MS = 3000;
    let app: AppProcess;
    beforeAll(async () => {
      app = await startApp({
        env: { PIXPOOL_LIMITS_UPLOAD_RATE_GRACE_MS: String(GRACE_MS) },
      });
    }, 60_000);
    afterAll(async () => {
      await app?.stop();
    });

    /**
     * Opens uploads that send their head and then one byte a second, from `addresses` in turn, to
     * `target` (this suite's app unless given), with `headers` (e.g. a proxy's X-Forwarded-For).
     */
    async function trickling(
      count: number,
      addresses: (i: number) => string,
      { target = app, headers = '' }: { target?: AppProcess; headers?: string } = {},
    ) {
      const png = makePng(50_000);
      const boundary = 'trickle';
      const head =
        `--${boundary}\r\nContent-Disposition: form-data; name="key"\r\n\r\nslow\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n` +
        'Content-Type: image/png\r\n\r\n';
      const length = head.length + png.length + `\r\n--${boundary}--\r\n`.length;
      const request =
        `POST /api/upload HTTP/1.1\r\nHost: localhost\r\n${headers}` +
        `Content-Type: multipart/form-data; boundary=${boundary}\r\n` +
        `Content-Length: ${length}\r\n\r\n${head}`;
      const uploads = await Promise.all(
        Array.from({ length: count }, (_, i) => stalledReader(target.url, request, addresses(i))),
      );
      for (const u of uploads) readAll(u);
      let sent = 0;
      const timer = setInterval(() => {
        for (const u of uploads)
          if (u.closedAt === undefined) u.socket.write(png.subarray(sent, sent + 1));
        sent++;
      }, 1000);
      return {
        uploads,
        stop: () => {
          clearInterval(timer);
          for (const u of uploads) u.socket.destroy();
        },
      };
    }

    it('32 trickling uploads from one client do not stop another client uploading', async () => {
      const { uploads, stop } = await trickling(32, () => '127.0.0.2');
      try {
        await new Promise((r) => setTimeout(r, 300));
        // The normal client (127.0.0.1) is answered at once, not after the trickles end.
        const started = Date.now();
        expect(await upload(app.url, 'normal', SMALL)).toEqual({
          status: 200,
          body: { success: 'true', key: 'normal' },
        });
        expect(Date.now() - started).toBeLessThan(GRACE_MS);
        // The trickler got a few slots; its other uploads were refused with 503 + Retry-After.
        await until(() => uploads.filter((u) => u.received !== '').length >= 28, 5000);
        const refused = uploads.filter((u) => u.received.startsWith('HTTP/1.1 503'));
        expect(refused.length).toBeGreaterThanOrEqual(28);
        expect(refused[0].received).toMatch(/\r\nRetry-After: 1\r\n/i);
        expect(refused[0].received).toMatch(/too many uploads in progress from this client/);
      } finally {
        stop();
      }
    }, 60_000);

    it('behind a trusted proxy on this host, the cap is per client the proxy names, not per proxy', async () => {
      const proxied = await startApp({ env: { PIXPOOL_SERVER_TRUST_PROXY: 'loopback' } });
      const trickler = await trickling(32, () => '127.0.0.1', {
        target: proxied,
        headers: 'X-Forwarded-For: 203.0.113.7\r\n',
      });
      try {
        await until(() => trickler.uploads.filter((u) => u.received !== '').length >= 28, 5000);
        // Another client of the same proxy (the same connection address) is not refused.
        const other = await upload(proxied.url, 'other', SMALL, 'a.png', {
          'X-Forwarded-For': '203.0.113.8',
        });
        expect(other.status).toBe(200);
      } finally {
        trickler.stop();
        await proxied.stop();
      }
    }, 60_000);

    it('32 trickling uploads from 32 clients lose their slots to the minimum body rate', async () => {
      const { uploads, stop } = await trickling(32, (i) => `127.0.0.${i + 2}`);
      try {
        await until(
          () => uploads.every((u) => u.received !== '' || u.closedAt !== undefined),
          GRACE_MS + 10_000,
        );
        const cut = uploads.filter((u) => u.received.startsWith('HTTP/1.1 408'));
        expect(cut.length).toBeGreaterThan(0);
        expect(cut[0].received).toMatch(/limits\.minUploadBytesPerSecond/);
        expect(await upload(app.url, 'after', SMALL)).toEqual({
          status: 200,
          body: { success: 'true', key: 'after' },
        });
        const keys = (await (
          await fetch(`${app.url}/api/list_keys`, { method: 'POST' })
        ).json()) as {
          keys: string[];
        };
        expect(keys.keys).not.toContain('slow');
      } finally {
        stop();
      }
    }, 60_000);
  });
});
