import { Agent, request, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { CacheNodeUnavailableError } from './cache-node-errors';

export interface NodeRequest {
  method: 'GET' | 'PUT' | 'DELETE' | 'POST';
  path: string;
  headers: OutgoingHttpHeaders;
  body?: Buffer | string;
  timeoutMs: number;
  /**
   * For answers a node may hold for its near-cache subscribers: the node must show it is alive
   * (a 102 Processing, sent when it starts waiting, or the answer) within this; then the whole
   * answer within timeoutMs. So a stalled node is found out as fast as on any other request.
   */
  aliveWithinMs?: number;
  /** Retry once when a reused keep-alive socket turns out closed (false for transfers). */
  retry: boolean;
}

export interface NodeResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Above any value an upload can make at the default limit (10 MiB), with room for JSON answers. */
export const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

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
    /** The longest answer accepted (Content-Length or bytes received); longer ones fail the call. */
    private readonly maxResponseBytes = DEFAULT_MAX_RESPONSE_BYTES,
  ) {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:')
      throw new TypeError(`cache node url must be http://host:port, got ${url}`);
    this.host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
    this.port = Number(parsed.port || 80);
    // Idle sockets are closed after 4 s, before the node's keep-alive timeout (5 s by default)
    // closes them from its side (a close racing a new request is what the single retry covers).
    this.agent = new Agent({
      keepAlive: true,
      maxSockets,
      maxFreeSockets: maxSockets,
      timeout: 4_000,
      scheduling: 'lifo',
    });
  }

  send(spec: NodeRequest): Promise<NodeResponse> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        outcome();
      };
      const fail = (err: Error) =>
        settle(() => reject(new CacheNodeUnavailableError(this.url, err)));
      const req = request({
        agent: this.agent,
        host: this.host,
        port: this.port,
        method: spec.method,
        path: spec.path,
        headers: spec.headers,
      });
      const started = Date.now();
      const arm = (ms: number) =>
        setTimeout(() => req.destroy(new Error(`no answer within ${ms} ms`)), ms);
      let timer = arm(Math.min(spec.aliveWithinMs ?? spec.timeoutMs, spec.timeoutMs));
      req.on('information', () => {
        clearTimeout(timer);
        timer = arm(Math.max(0, spec.timeoutMs - (Date.now() - started)));
      });
      req.on('error', (err: Error & { code?: string }) => {
        if (spec.retry && req.reusedSocket && err.code && STALE_SOCKET_CODES.has(err.code)) {
          settle(() => resolve(this.send({ ...spec, retry: false })));
        } else fail(err);
      });
      req.on('response', (res) => {
        // What a node claims is never allocated blindly: an answer beyond the limit (no value can
        // be larger than an upload) is refused before any byte of it is buffered.
        const declared = res.headers['content-length'];
        const length = declared === undefined ? undefined : Number(declared);
        if (
          length !== undefined &&
          !(Number.isSafeInteger(length) && length >= 0 && length <= this.maxResponseBytes)
        ) {
          fail(
            new Error(
              `answer of ${declared} bytes is over the ${this.maxResponseBytes}-byte limit`,
            ),
          );
          req.destroy();
          return;
        }
        const exact = length === undefined ? null : Buffer.allocUnsafe(length);
        const limit = exact ? exact.length : this.maxResponseBytes;
        const chunks: Buffer[] = [];
        let received = 0;
        res.on('data', (chunk: Buffer) => {
          if (received + chunk.length > limit) {
            fail(new Error(`answer longer than ${limit} bytes`));
            req.destroy();
            return;
          }
          if (exact) chunk.copy(exact, received);
          else chunks.push(chunk);
          received += chunk.length;
        });
        res.on('end', () => {
          if (exact && received !== exact.length) {
            fail(new Error(`answer of ${received} bytes, ${exact.length} announced`));
            return;
          }
          settle(() =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: exact ?? Buffer.concat(chunks),
            }),
          );
        });
        res.on('error', fail);
        // A connection closed mid-answer (no 'end'): never leave the caller waiting for the timer.
        res.on('close', () => {
          if (!res.complete) fail(new Error('connection closed before the whole answer'));
        });
      });
      req.end(spec.body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
