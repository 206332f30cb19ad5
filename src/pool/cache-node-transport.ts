import { Agent, request, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { CacheNodeUnavailableError } from './cache-node-errors';

export interface NodeRequest {
  method: 'GET' | 'PUT' | 'DELETE' | 'POST';
  path: string;
  headers: OutgoingHttpHeaders;
  body?: Buffer | string;
  timeoutMs: number;
  /** Retry once when a reused keep-alive socket turns out closed (false for transfers). */
  retry: boolean;
}

export interface NodeResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A reused idle socket the server had just closed: the request never reached the node. */
const STALE_SOCKET_CODES = new Set(['ECONNRESET', 'EPIPE']);

/**
 * Plain node:http over a keep-alive agent: the app's hot path pays for one request and one
 * response object per call, no framework. Every failure to get a response (refused, reset,
 * timeout) becomes a CacheNodeUnavailableError naming the node.
 */
export class NodeTransport {
  private readonly agent: Agent;
  private readonly host: string;
  private readonly port: number;

  constructor(
    readonly url: string,
    maxSockets: number,
  ) {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:')
      throw new TypeError(`cache node url must be http://host:port, got ${url}`);
    this.host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
    this.port = Number(parsed.port || 80);
    // Idle sockets are closed after 30 s, before the node's 60 s keep-alive timeout closes them
    // from its side (a close racing a new request is what the single retry covers).
    this.agent = new Agent({
      keepAlive: true,
      maxSockets,
      maxFreeSockets: maxSockets,
      timeout: 30_000,
      scheduling: 'lifo',
    });
  }

  send(spec: NodeRequest): Promise<NodeResponse> {
    return new Promise((resolve, reject) => {
      const req = request({
        agent: this.agent,
        host: this.host,
        port: this.port,
        method: spec.method,
        path: spec.path,
        headers: spec.headers,
      });
      const timer = setTimeout(
        () => req.destroy(new Error(`no answer within ${spec.timeoutMs} ms`)),
        spec.timeoutMs,
      );
      req.on('error', (err: Error & { code?: string }) => {
        clearTimeout(timer);
        if (spec.retry && req.reusedSocket && err.code && STALE_SOCKET_CODES.has(err.code)) {
          resolve(this.send({ ...spec, retry: false }));
        } else reject(new CacheNodeUnavailableError(this.url, err));
      });
      req.on('response', (res) => {
        const length = Number(res.headers['content-length']);
        const exact = Number.isSafeInteger(length) ? Buffer.allocUnsafe(length) : null;
        const chunks: Buffer[] = [];
        let received = 0;
        res.on('data', (chunk: Buffer) => {
          if (exact) chunk.copy(exact, received);
          else chunks.push(chunk);
          received += chunk.length;
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: exact ?? Buffer.concat(chunks),
          });
        });
        res.on('error', (err) => {
          clearTimeout(timer);
          reject(new CacheNodeUnavailableError(this.url, err));
        });
      });
      req.end(spec.body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
