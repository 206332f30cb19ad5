import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';

interface LoadResult {
  rps: number;
  total: number;
}
type FixedCount = (
  baseUrl: string,
  paths: string[],
  options?: { amount?: number; connections?: number },
) => Promise<LoadResult>;

const { fixedCount } = createRequire(__filename)('../../../bench/support/wrk') as {
  fixedCount: FixedCount;
};

/**
 * The benches' fixed-count load (bench/support/wrk.js) divides the requests by the run's duration:
 * that duration must end with the last answer, not on the load tool's next sampling tick (once a
 * second by default), or every run is rounded up to whole seconds and a server looks slower than it
 * is (the variant-miss ratio compared an exactly timed loop against such a rounded run).
 */
describe('bench fixedCount', () => {
  let server: Server;
  let url: string;

  beforeAll(async () => {
    server = createServer((_req, res) => {
      setTimeout(() => res.end('ok'), 10);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('times a run that ends well within a second by its last answer', async () => {
    // 40 answers of about 10 ms over 4 connections: about 0.1 s.
    const started = process.hrtime.bigint();
    const result = await fixedCount(url, ['/a'], { amount: 40, connections: 4 });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    expect(result.total).toBe(40);
    const measured = result.total / result.rps;
    expect(measured).toBeLessThan(0.7);
    expect(measured).toBeLessThanOrEqual(seconds);
  });
});
