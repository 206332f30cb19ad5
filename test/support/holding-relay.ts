import * as net from 'node:net';

export interface HoldingRelay {
  url: string;
  /** What the held requests have sent so far, not yet passed on. */
  held(): Buffer;
  /** Passes on everything held, and everything after it. */
  release(): void;
  close(): Promise<void>;
}

/**
 * A TCP relay that holds the bytes of POST requests (a transfer's stream) until release(), and
 * passes everything else at once: bytes a sender has written but the receiver has not seen yet,
 * "in flight" for as long as a test needs.
 */
export async function startHoldingRelay(targetPort: number): Promise<HoldingRelay> {
  const sockets = new Set<net.Socket>();
  const held: Array<{ chunks: Buffer[]; upstream: net.Socket }> = [];
  let holding = true;

  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    }
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    let hold: { chunks: Buffer[]; upstream: net.Socket } | null = null;
    let first = true;
    client.on('data', (chunk: Buffer) => {
      if (first && holding && chunk.toString('latin1', 0, 5) === 'POST ') {
        hold = { chunks: [], upstream };
        held.push(hold);
      }
      first = false;
      if (hold && holding) hold.chunks.push(chunk);
      else upstream.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    held: () => Buffer.concat(held.flatMap((h) => h.chunks)),
    release: () => {
      holding = false;
      for (const h of held) for (const chunk of h.chunks.splice(0)) h.upstream.write(chunk);
    },
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
