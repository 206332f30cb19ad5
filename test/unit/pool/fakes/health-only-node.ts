import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';

export interface HealthOnlyNode {
  url: string;
  /** Connections from clients that are still open. */
  openConnections(): number;
  close(): Promise<void>;
}

/**
 * An HTTP server that answers every request as a healthy node at epoch 0, to see whether a
 * client keeps or closes its keep-alive connections (no cache-node process needed for that).
 */
export async function healthOnlyNode(): Promise<HealthOnlyNode> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    req.resume();
    const body = JSON.stringify({ status: 'ok', epoch: 0, regions: [] });
    res.writeHead(200, { 'content-type': 'application/json', 'x-pixpool-epoch': '0' });
    res.end(body);
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    openConnections: () => sockets.size,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
