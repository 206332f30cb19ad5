import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import {
  base64Length,
  base64Pieces,
  rawPieces,
  ResponseBudget,
} from '../../../src/common/response-budget';
import { ServiceBusyError } from '../../../src/common/service-busy.error';
import { eventually } from '../../support/eventually';

describe('response budget', () => {
  it('base64 pieces join into exactly the whole encoding, each within the piece size', () => {
    for (const size of [0, 1, 2, 3, 4, 4095, 4096, 100_000]) {
      const body = randomBytes(size);
      const pieces = [...base64Pieces(body, 4096)];
      expect(pieces.join('')).toBe(body.toString('base64'));
      expect(Math.max(0, ...pieces.map((p) => p.length))).toBeLessThanOrEqual(4096);
      expect(base64Length(size)).toBe(body.toString('base64').length);
    }
  });

  it('raw pieces are views of the body, within the piece size', () => {
    const body = randomBytes(10_000);
    const pieces = [...rawPieces(body, 4096)];
    expect(Buffer.concat(pieces).equals(body)).toBe(true);
    expect(pieces.map((p) => p.length)).toEqual([4096, 4096, 1808]);
  });

  describe('over a real socket', () => {
    let server: Server;
    let url: string;
    const sut = new ResponseBudget({
      maxQueuedBytesPerConnection: 64 * 1024,
      maxQueuedResponseBytes: 40 * 1024 * 1024,
    });
    const body = randomBytes(32 * 1024 * 1024);
    beforeAll(async () => {
      server = createServer((_req, res) => {
        try {
          sut.send(res, 'k', body.length, rawPieces(body, sut.pieceBytes), () => {
            res.setHeader('Content-Length', body.length);
          });
        } catch (err) {
          res.statusCode = err instanceof ServiceBusyError ? 503 : 500;
          res.end();
        }
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    });

    it('holds a stalled reader to its pieces, refuses a large answer beyond the total, and gives the room back on close', async () => {
      const stalled = request(url);
      let stalledRes: IncomingMessage | undefined;
      stalled.on('response', (res) => {
        stalledRes = res;
        res.pause();
      });
      stalled.on('error', () => undefined);
      stalled.end();
      await eventually('the stalled answer waiting', () => sut.waitingOnClients() === 1, 5000);
      // Kernel buffers took part of the body; what waits in the process is bounded by the rest.
      expect(sut.heldBytes()).toBeLessThanOrEqual(body.length);
      expect(await status(url)).toBe(503); // 32 MiB admitted + 32 MiB > 40 MiB
      // The key's length is known now: the next read of it is refused before any fetch.
      expect(() => sut.refuseEarly('k')).toThrow(ServiceBusyError);
      expect(() => sut.refuseEarly('unknown')).not.toThrow();
      stalledRes?.destroy();
      stalled.destroy();
      await eventually('its room given back', () => sut.heldBytes() === 0, 5000);
      expect(() => sut.refuseEarly('k')).not.toThrow();
      const whole = await fetch(url);
      expect(Buffer.from(await whole.arrayBuffer()).equals(body)).toBe(true);
    });
  });
});

function status(url: string): Promise<number> {
  return fetch(url, { headers: { connection: 'close' } }).then(async (r) => {
    await r.arrayBuffer();
    return r.status;
  });
}
