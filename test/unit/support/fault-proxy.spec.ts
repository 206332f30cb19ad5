import * as net from 'node:net';
import { startFaultProxy, type FaultProxy } from '../../support/fault-proxy';

/** Sends `text` through a new connection and resolves with what came back, or the error code. */
function roundTrip(port: number, text: string, waitMs = 500): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let got = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(`timeout:${got}`);
    }, waitMs);
    socket.on('connect', () => socket.write(text));
    socket.on('data', (d) => {
      got += d.toString();
      if (got.length >= text.length) {
        clearTimeout(timer);
        socket.end();
        resolve(got);
      }
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(`error:${e.code}`);
    });
  });
}

describe('fault proxy', () => {
  let echo: net.Server;
  let echoPort: number;
  let sut: FaultProxy;

  beforeAll(async () => {
    echo = net.createServer((s) => s.pipe(s));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    echoPort = (echo.address() as net.AddressInfo).port;
  });
  afterAll(() => new Promise((r) => echo.close(r)));
  beforeEach(async () => {
    sut = await startFaultProxy({ target: { host: '127.0.0.1', port: echoPort } });
  });
  afterEach(() => sut.close());

  it('passes bytes both ways', async () => {
    expect(await roundTrip(sut.port, 'hello')).toBe('hello');
  });

  it('refuses, then passes again on the same port', async () => {
    const port = sut.port;
    await sut.set('refuse');
    expect(await roundTrip(port, 'x')).toBe('error:ECONNREFUSED');
    await sut.set('pass');
    expect(sut.port).toBe(port);
    expect(await roundTrip(port, 'back')).toBe('back');
  });

  it('resets new connections', async () => {
    await sut.set('reset');
    expect(await roundTrip(sut.port, 'x')).toBe('error:ECONNRESET');
  });

  it('stalls: the connection opens and nothing comes back', async () => {
    await sut.set('stall');
    expect(await roundTrip(sut.port, 'x', 300)).toBe('timeout:');
  });

  it('delays each chunk by the set time', async () => {
    await sut.set({ mode: 'pass', delayMs: 150 });
    const started = Date.now();
    expect(await roundTrip(sut.port, 'slow', 2000)).toBe('slow');
    // There and back: two delayed hops.
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('applies the mode to the given share of connections only', async () => {
    await sut.set({ mode: 'reset', fraction: 0.5 });
    const results = await Promise.all(
      Array.from({ length: 60 }, () => roundTrip(sut.port, 'y', 1000)),
    );
    const reset = results.filter((r) => r === 'error:ECONNRESET').length;
    expect(reset).toBeGreaterThan(10);
    expect(reset).toBeLessThan(50);
    expect(results.filter((r) => r === 'y').length).toBe(60 - reset);
  });

  it('blackhole stops open connections too; cutAll closes them', async () => {
    const socket = net.connect(sut.port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    await sut.set('blackhole');
    const closed = new Promise((r) => socket.once('close', r));
    let got = '';
    socket.on('data', (d) => (got += d.toString()));
    socket.write('lost');
    await new Promise((r) => setTimeout(r, 200));
    expect(got).toBe('');
    sut.cutAll();
    await closed;
  });
});
