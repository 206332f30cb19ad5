import { request, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { CacheNodeClient } from '../../../src/pool/client/cache-node.client';
import {
  spawnCacheNode,
  type SpawnCacheNodeOptions,
  type SpawnedCacheNode,
} from '../../support/spawn-cache-node';

export interface RunningNode {
  node: SpawnedCacheNode;
  client: CacheNodeClient;
  stop(): Promise<void>;
}

export const ALL_REGIONS = Array.from({ length: 16 }, (_, region) => region);

/**
 * A spawned node plus a client for it; stop() closes both. A node starts owning nothing; unless
 * `owning` is false it is given every region at epoch 1, as a manager would, so suites about keys
 * need not repeat it.
 */
export async function startNode(
  options: SpawnCacheNodeOptions & { owning?: boolean } = {},
): Promise<RunningNode> {
  const node = await spawnCacheNode(options);
  const client = new CacheNodeClient({ url: node.url, secret: options.secret, timeoutMs: 5_000 });
  if (options.owning !== false) await client.setOwnership(1, ALL_REGIONS);
  return {
    node,
    client,
    stop: async () => {
      client.close();
      await node.stop();
    },
  };
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  json: Record<string, unknown>;
}

/** One request on a fresh connection, exactly as given (no client-side checks). */
export function raw(
  url: string,
  method: string,
  path: string,
  options: { headers?: OutgoingHttpHeaders; body?: Buffer | string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        method,
        path,
        headers: options.headers,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          let json: Record<string, unknown> = {};
          if (String(res.headers['content-type']).startsWith('application/json'))
            json = JSON.parse(body.toString());
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json });
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Writes bytes on a raw TCP connection, optionally half-closes, and returns all it reads. */
export function rawSocket(port: number, bytes: string | Buffer, halfClose = true): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(bytes);
      if (halfClose) socket.end();
    });
    let out = '';
    socket.on('data', (chunk: Buffer) => (out += chunk.toString('latin1')));
    socket.on('close', () => resolve(out));
    socket.on('error', reject);
    socket.setTimeout(5_000, () => socket.destroy());
  });
}

export function value(bytes: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(bytes);
  for (let i = 0; i < bytes; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));
