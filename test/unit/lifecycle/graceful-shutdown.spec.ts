import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { GracefulShutdown } from '../../../src/lifecycle/graceful-shutdown';
import { ResizeInProgressError, ResizeLock } from '../../../src/pool/membership/resize-lock';

/** A real server whose /slow requests answer when the test says so. */
async function server(): Promise<{
  server: http.Server;
  url: string;
  release: () => void;
  arrived: Promise<void>;
}> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let arrive!: () => void;
  const arrived = new Promise<void>((resolve) => (arrive = resolve));
  const srv = http.createServer((req, res) => {
    if (req.url === '/slow') {
      arrive();
      void released.then(() => res.end('slow done'));
    } else res.end('fast');
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  return { server: srv, url: `http://127.0.0.1:${port}`, release, arrived };
}

function get(
  url: string,
  agent?: http.Agent,
): Promise<{ body: string; connection?: string } | { error: string }> {
  return new Promise((resolve) => {
    http
      .get(url, { agent }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ body, connection: res.headers.connection }));
      })
      .on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
  });
}

describe('GracefulShutdown', () => {
  it('waits for requests in flight and a running resize, then closes and exits 0', async () => {
    const s = await server();
    let finishResize!: () => void;
    const resize = new Promise<void>((resolve) => (finishResize = resolve));
    const events: string[] = [];
    const exited = new Promise<number>((resolve) => {
      const shutdown = new GracefulShutdown(
        {
          server: s.server,
          drainResizes: () => resize.then(() => void events.push('resize done')),
          close: async () => void events.push('closed'),
          graceMs: 10_000,
        },
        (code) => resolve(code),
      );
      const inFlight = get(`${s.url}/slow`);
      void s.arrived.then(async () => {
        void shutdown.shutdown('SIGTERM');
        expect(await get(`${s.url}/fast`)).toEqual({ error: 'ECONNREFUSED' }); // listener closed
        setTimeout(() => {
          events.push('request answered');
          s.release();
        }, 100);
        expect(await inFlight).toEqual({ body: 'slow done', connection: 'close' });
        setTimeout(finishResize, 100);
      });
    });
    expect(await exited).toBe(0);
    expect(events).toEqual(['request answered', 'resize done', 'closed']);
  });

  it('closes idle keep-alive connections at once, so a drain is not held by them', async () => {
    const s = await server();
    const agent = new http.Agent({ keepAlive: true });
    expect(await get(`${s.url}/fast`, agent)).toMatchObject({ body: 'fast' });
    const started = Date.now();
    const code = await new Promise<number>((resolve) => {
      void new GracefulShutdown(
        { server: s.server, drainResizes: async () => {}, close: async () => {}, graceMs: 10_000 },
        resolve,
      ).shutdown('SIGTERM');
    });
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(2_000); // not the 5 s keep-alive timeout
    agent.destroy();
  });

  it('gives up after graceMs, cuts what is left, still closes, and exits 1', async () => {
    const s = await server();
    let closed = false;
    const inFlight = get(`${s.url}/slow`);
    await s.arrived;
    const code = await new Promise<number>((resolve) => {
      void new GracefulShutdown(
        {
          server: s.server,
          drainResizes: () => new Promise(() => {}), // a resize that never ends
          close: async () => void (closed = true),
          graceMs: 200,
        },
        resolve,
      ).shutdown('SIGTERM');
    });
    expect(code).toBe(1);
    expect(closed).toBe(true);
    expect(await inFlight).toHaveProperty('error');
  });
});

describe('ResizeLock.drain', () => {
  it('resolves when the running resize ends and refuses any later one', async () => {
    const lock = new ResizeLock();
    let finish!: () => void;
    const running = lock.run('grow', () => new Promise<void>((resolve) => (finish = resolve)));
    let drained = false;
    const drain = lock.drain().then(() => (drained = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(drained).toBe(false);
    finish();
    await running;
    await drain;
    expect(drained).toBe(true);
    await expect(lock.run('shrink', async () => 1)).rejects.toThrow(ResizeInProgressError);
    await expect(lock.run('shrink', async () => 1)).rejects.toThrow(/shutting down/);
  });

  it('resolves at once when nothing runs', async () => {
    await expect(new ResizeLock().drain()).resolves.toBeUndefined();
  });
});
