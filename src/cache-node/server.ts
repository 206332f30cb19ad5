import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { CacheNodeOptions, NodeContext } from './context';
import { Ownership } from './ownership';
import { PoolResponse } from './pool-response';
import { route } from './routes';
import { NodeStatsRecorder } from './stats';
import { CacheStore } from './store';
import { acceptSubscription } from './subscription-socket';
import { SubscriptionTable } from './subscriptions';
import { NODE_REGION_COUNT } from '../protocol/cache-node.protocol';
import { testMutant } from '../protocol/test-mutants';

const ALL_REGIONS = Array.from({ length: NODE_REGION_COUNT }, (_, region) => region);

/** A connection silent this long in the middle of a request is cut. */
const SOCKET_IDLE_TIMEOUT_MS = 120_000;

export interface CacheNode {
  readonly server: Server;
  readonly context: NodeContext;
  /** Resolves with the bound address (port 0 picks a free port). */
  listen(): Promise<AddressInfo>;
  /** Stops accepting, lets requests in flight finish for up to `graceMs`, then cuts the rest. */
  close(graceMs?: number): Promise<void>;
}

export function createCacheNode(options: CacheNodeOptions): CacheNode {
  const context: NodeContext = {
    options,
    store: new CacheStore({
      capacityBytes: options.capacityBytes,
      policy: options.policy,
      leases: { ttlMs: options.leaseTtlMs, maxBytes: options.leaseMaxBytes },
      tombstones: { ttlMs: options.tombstoneTtlMs, maxBytes: options.tombstoneMaxBytes },
    }),
    ownership: new Ownership(),
    stats: new NodeStatsRecorder(),
    subscriptions: new SubscriptionTable(undefined, options.nearLeaseMs),
  };
  // This may be a restart: front-ends that missed the old process's connection close may serve
  // near copies under its grants until they run out (subscriptions.ts, step 3).
  // (The mutant is the old defect: the restart owns every region at once and holds none.)
  if (!testMutant('restarted-node-claims-all'))
    context.subscriptions.holdGained(ALL_REGIONS, options.nearLeaseMs);
  const server = createServer({ noDelay: true, ServerResponse: PoolResponse }, (req, res) =>
    handle(context, req, res),
  );
  // What one client can hold: a slow or silent client is cut at these bounds (Node answers 408),
  // checked every quarter bound (Node's default check every 30 s would overshoot by that much).
  // requestTimeoutMs bounds region imports too: raise it for very large regions on slow links.
  server.keepAliveTimeout = options.keepAliveTimeoutMs;
  server.headersTimeout = options.headersTimeoutMs;
  server.requestTimeout = options.requestTimeoutMs;
  server.maxConnections = options.maxConnections;
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval =
    Math.max(
      25,
      Math.min(1000, Math.floor(Math.min(options.headersTimeoutMs, options.requestTimeoutMs) / 4)),
    );
  server.timeout = SOCKET_IDLE_TIMEOUT_MS;
  server.on('clientError', answerClientError);
  server.on('upgrade', (req, socket, head) => acceptSubscription(context, req, socket, head));

  return {
    server,
    context,
    listen: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port, options.host, () => {
          server.off('error', reject);
          resolve(server.address() as AddressInfo);
        });
      }),
    close: (graceMs = 5_000) =>
      new Promise((resolve) => {
        const cutAll = setTimeout(() => server.closeAllConnections(), graceMs);
        // Connections turn idle as their last response ends: close them then, not at keep-alive end.
        const closeIdle = setInterval(() => server.closeIdleConnections(), 50);
        // Upgraded (subscription) sockets are not the server's any more: close them ourselves.
        context.subscriptions.closeAll();
        server.close(() => {
          clearTimeout(cutAll);
          clearInterval(closeIdle);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}

function handle(ctx: NodeContext, req: IncomingMessage, res: ServerResponse): void {
  try {
    const pending = route(ctx, req, res);
    if (pending) pending.catch((err: unknown) => internalError(res, err));
  } catch (err) {
    internalError(res, err);
  }
}

/** A bug, not bad input: answer 500 (or cut the response) and keep serving. */
function internalError(res: ServerResponse, err: unknown): void {
  console.error('pixpool cache node: internal error:', err);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error: 'internal', message: 'internal error' });
  res.writeHead(500, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/**
 * Requests Node's parser rejects (bad syntax, oversized headers, a body cut off by the client
 * closing its side) get a JSON 400/431 too. Like Node's default handler, it writes only when no
 * response on this connection has started, so it cannot corrupt one half-sent.
 */
const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
};

function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  // Headers or the whole request not in within their bound (server.headersTimeout, requestTimeout).
  const timedOut = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : timedOut ? 408 : 400;
  const error =
    err.code === 'HPE_INVALID_EOF_STATE' ? 'truncated' : timedOut ? 'timeout' : 'bad_request';
  const body = JSON.stringify({
    error,
    message: timedOut
      ? 'request not received within the time allowed'
      : `malformed HTTP request (${err.code ?? err.message})`,
  });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\n` +
      `content-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
      `connection: close\r\n\r\n${body}`,
  );
}
