import * as http from 'node:http';
import { startApp, type AppProcess } from '../support/app-process';
import { makePng } from '../support/images';

/*
 * SIGTERM under load: every request the app had started answers in full, acknowledged uploads
 * survive, and the process exits 0 by itself. Requests are sent on fresh connections (no shared
 * keep-alive socket), each with `Expect: 100-continue`: the app's HTTP server answers
 * `100 Continue` as soon as it has parsed the request, so the client knows for certain whether
 * the app started it (uploads send their body only then).
 *   - ok: a complete 200 response;
 *   - not started: refused or reset before `100 Continue` (the listener had closed, or the
 *     connection was still in the kernel's accept queue): the app never saw these, a load
 *     balancer retries them elsewhere;
 *   - failed: anything else: an error status, or a reset or cut body once started.
 * A slow upload whose body is still arriving when the signal lands makes sure at least one
 * request is truly in flight, whatever the timing of the fast load.
 */
type Outcome = {
  kind: 'ok' | 'not-started' | 'failed';
  detail: string;
  start: number;
  end: number;
};

function request(
  url: string,
  options: { method?: string; headers?: http.OutgoingHttpHeaders; body?: Buffer } = {},
): Promise<Outcome> {
  const start = Date.now();
  return new Promise((resolve) => {
    let started = false;
    const done = (kind: Outcome['kind'], detail: string) =>
      resolve({ kind, detail, start, end: Date.now() });
    const headers = { ...options.headers, Expect: '100-continue' };
    const req = http.request(url, { method: options.method, headers, agent: false }, (res) => {
      started = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err) => done('failed', `body cut: ${err.message}`));
      res.on('end', () => {
        const length = Buffer.concat(chunks).length;
        const expected = Number(res.headers['content-length'] ?? length);
        if (res.statusCode === 200 && length === expected) done('ok', '200');
        else done('failed', `${res.statusCode} ${Buffer.concat(chunks).toString().slice(0, 200)}`);
      });
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      const never = !started && (err.code === 'ECONNREFUSED' || err.code === 'ECONNRESET');
      done(never ? 'not-started' : 'failed', `${err.code}: ${err.message}`);
    });
    req.on('continue', () => {
      started = true;
      if (options.body) req.end(options.body);
    });
    if (!options.body) req.end();
  });
}

function multipart(key: string, png: Buffer): { headers: http.OutgoingHttpHeaders; body: Buffer } {
  const boundary = `----pixpool${Math.random().toString(16).slice(2)}`;
  const body = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="key"\r\n\r\n${key}\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n` +
        'Content-Type: image/png\r\n\r\n',
    ),
    png,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return {
    headers: {
      'Content-Type': `multipart/form-data; boundary=${boundary}`,
      'Content-Length': body.length,
    },
    body,
  };
}

describe('SIGTERM under load', () => {
  let app: AppProcess;
  const acknowledged = new Map<string, Buffer>();

  beforeAll(async () => {
    app = await startApp({
      // Its 12 load workers stand for 12 clients, all on one address here.
      env: { PIXPOOL_LOG_FORMAT: 'json', PIXPOOL_LIMITS_MAX_UPLOADS_PER_CLIENT: '16' },
    });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('finishes every started request, keeps every acknowledged upload, exits 0', async () => {
    const keys = Array.from({ length: 16 }, (_, i) => `warm-${i}`);
    for (const key of keys) {
      const png = makePng(32 * 1024);
      const { headers, body } = multipart(key, png);
      expect((await request(`${app.url}/api/upload`, { method: 'POST', headers, body })).kind).toBe(
        'ok',
      );
      acknowledged.set(key, png);
    }

    // A slow upload: headers and half the body now, the rest after the signal.
    const slowPng = makePng(256 * 1024);
    const slow = multipart('slow-upload', slowPng);
    const slowStart = Date.now();
    let slowRequest!: http.ClientRequest;
    const slowOutcome = new Promise<Outcome>((resolve) => {
      slowRequest = http.request(
        `${app.url}/api/upload`,
        { method: 'POST', headers: { ...slow.headers, Expect: '100-continue' }, agent: false },
        (res) => {
          res.resume();
          res.on('end', () =>
            resolve({
              kind: res.statusCode === 200 ? 'ok' : 'failed',
              detail: String(res.statusCode),
              start: slowStart,
              end: Date.now(),
            }),
          );
        },
      );
      slowRequest.on('error', (err) =>
        resolve({ kind: 'failed', detail: err.message, start: slowStart, end: Date.now() }),
      );
    });
    await new Promise((resolve) => slowRequest.once('continue', resolve));
    slowRequest.write(slow.body.subarray(0, slow.body.length / 2));

    // The fast load: 12 workers reading and uploading until the app stops taking connections.
    const outcomes: Outcome[] = [];
    let uploads = 0;
    const worker = async (id: number): Promise<void> => {
      for (let i = 0; ; i++) {
        let outcome: Outcome;
        if (i % 4 === 3) {
          const key = `load-${id}-${i}`;
          const png = makePng(64 * 1024);
          const { headers, body } = multipart(key, png);
          outcome = await request(`${app.url}/api/upload`, { method: 'POST', headers, body });
          if (outcome.kind === 'ok') acknowledged.set(key, png);
          uploads++;
        } else {
          outcome = await request(`${app.url}/images/${keys[(id * 7 + i) % keys.length]}`);
        }
        outcomes.push(outcome);
        if (outcome.kind !== 'ok') return;
      }
    };
    const load = Promise.all(Array.from({ length: 12 }, (_, id) => worker(id)));
    // Signal once the load is in full swing (counted, not timed: the machine may be slow).
    const okSoFar = () => outcomes.filter((o) => o.kind === 'ok').length;
    for (let waited = 0; (okSoFar() < 40 || uploads < 8) && waited < 30_000; waited += 50)
      await new Promise((resolve) => setTimeout(resolve, 50));

    const signalledAt = Date.now();
    process.kill(app.pid(), 'SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 500));
    slowRequest.end(slow.body.subarray(slow.body.length / 2));
    const slowResult = await slowOutcome;
    await load;
    await app.stop(); // waits for the exit the signal started (SIGKILL only after 10 s)

    const failed = outcomes.filter((o) => o.kind === 'failed');
    expect(failed).toEqual([]);
    expect(slowResult).toMatchObject({ kind: 'ok' });
    acknowledged.set('slow-upload', slowPng);
    // The drain was exercised: requests begun before the signal finished after it.
    const drained = outcomes.filter(
      (o) => o.kind === 'ok' && o.start < signalledAt && o.end >= signalledAt,
    );
    expect(drained.length).toBeGreaterThan(0);
    expect(okSoFar()).toBeGreaterThanOrEqual(40);
    expect(app.exitCode()).toBe(0);
    expect(app.output()).toMatch(/drained in \d+ ms/);

    // Everything acknowledged is there after a restart, byte for byte.
    await app.restart();
    for (const [key, png] of acknowledged) {
      const res = await fetch(`${app.url}/images/${encodeURIComponent(key)}`);
      expect({ key, status: res.status }).toEqual({ key, status: 200 });
      expect(Buffer.from(await res.arrayBuffer()).equals(png)).toBe(true);
    }
  }, 90_000);

  it('logged JSON lines throughout (log.format: json), the shutdown included', () => {
    const lines = app
      .output()
      .split('\n')
      .filter((line) => line.trim() !== '');
    const parsed = lines.map((line) => {
      try {
        return JSON.parse(line) as { level?: string; message?: unknown };
      } catch {
        return { unparsable: line };
      }
    });
    expect(parsed.filter((entry) => 'unparsable' in entry)).toEqual([]);
    const messages = parsed.map((entry) => String((entry as { message?: unknown }).message));
    expect(messages.some((m) => m.startsWith('pixpool listening on'))).toBe(true);
    expect(messages.some((m) => m.startsWith('SIGTERM: no new connections'))).toBe(true);
    for (const entry of parsed) expect(entry).toMatchObject({ level: expect.any(String) });
  });
});
