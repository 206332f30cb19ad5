import { createServer, type Server } from 'node:http';

export interface DeadNode {
  url: string;
  /** "METHOD /path?query" of every request that reached it. */
  requests: string[];
  close(): Promise<void>;
}

/** A node that died: it records what it is asked and drops every connection without an answer. */
export async function deadNode(): Promise<DeadNode> {
  const requests: string[] = [];
  const server: Server = createServer((req) => {
    requests.push(`${req.method} ${req.url}`);
    req.socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
