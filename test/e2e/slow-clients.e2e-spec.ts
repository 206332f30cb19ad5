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
}

/**
 * Sends one request and never reads the answer: the socket is paused before any byte arrives, so
 * the kernel buffers fill and everything else waits in the server.
 */
function stalledReader(baseUrl: string, request: string): Promise<StalledReader> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect({ port: Number(port), host: hostname });
    socket.pause();
    const reader: StalledReader = { socket, openedAt: Date.now() };
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
  `POST /api/key/${key} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`;
const RAW_READ = (key: string) => `GET /images/${key} HTTP/1.1\r\nHost: x\r\n\r\n`;

/** Sequential reads of a small image on both read routes, on fresh connections; median in ms. */
async function medianReadMs(baseUrl: string, count: number): Promise<number> {
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
    expect(`${res.status} ${res.status === 200 ? '' : body}`).toBe('200 ');
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
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
          expect(await medianReadMs(app.url, 40)).toBeLessThan(100);
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
});
