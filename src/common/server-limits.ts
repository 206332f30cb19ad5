import type { Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { LimitsConfig } from '../config/app-config';
import { failure } from './course-response';

/**
 * Bounds what one client can hold on the app's HTTP server (limits.* in the config):
 * - headers must arrive within headersTimeoutMs, and the whole request (a 10 MiB upload on a slow
 *   link) within requestTimeoutMs; Node answers 408 and closes the connection otherwise;
 * - an idle keep-alive connection is closed after keepAliveTimeoutMs;
 * - at most maxConnections are open; Node drops connections beyond them at accept;
 * - once an answer has started, a connection whose client takes no byte of it for
 *   responseIdleTimeoutMs is destroyed (slow readers; see response-budget.ts for what one may hold).
 * Node checks the two request timeouts on a timer (30 s by default, which would let a slow client
 * hold a connection 50 s past a 20 s bound); checking every quarter of the bound, at most once a
 * second, keeps the overshoot small for a walk over the open connections.
 * Must run before listen(): Node reads the checking interval when the server starts listening.
 */
export function applyServerLimits(server: Server, limits: LimitsConfig): void {
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.maxConnections = limits.maxConnections;
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval =
    checkingIntervalMs(limits.headersTimeoutMs, limits.requestTimeoutMs);
  server.on('clientError', answerClientError);
  server.prependListener('request', (_req, res: ServerResponse) =>
    cutIdleReaders(res, limits.responseIdleTimeoutMs),
  );
}

/**
 * Node has no idle bound on the response phase: requestTimeout ends when the request is in, and
 * keepAliveTimeout starts when the answer is done. The socket's idle timer is armed when the
 * answer's head is written, not when the request arrives, so a slow dependency or a long resize
 * is not cut; after that it fires only if the socket makes no progress (Node resets it while its
 * write queue shrinks), and Node's own handler destroys the socket since nobody else listens.
 */
function cutIdleReaders(res: ServerResponse, idleMs: number): void {
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, ...args: Parameters<typeof writeHead>) {
    this.socket?.setTimeout(idleMs);
    return writeHead.apply(this, args);
  } as typeof writeHead;
}

/**
 * A request Node could not hand to the app (too slow, malformed, headers too large) still gets an
 * answer in the failure shape, naming the bound when it was one, before the connection closes.
 */
function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const [status, reason, message] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [
          408,
          'Request Timeout',
          'request not received in time (limits.headersTimeoutMs for the headers, ' +
            'limits.requestTimeoutMs for the whole request); nothing was stored',
        ]
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', 'request headers too large']
        : [400, 'Bad Request', `malformed HTTP request (${err.code ?? 'unknown'})`];
  const body = JSON.stringify(failure(status, message));
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

export function checkingIntervalMs(headersTimeoutMs: number, requestTimeoutMs: number): number {
  return Math.max(25, Math.min(1000, Math.floor(Math.min(headersTimeoutMs, requestTimeoutMs) / 4)));
}
