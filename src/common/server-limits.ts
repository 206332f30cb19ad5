import type { Server } from 'node:http';
import { LimitsConfig } from '../config/app-config';

/**
 * Bounds what one client can hold on the app's HTTP server (limits.* in the config):
 * - headers must arrive within headersTimeoutMs, and the whole request (a 10 MiB upload on a slow
 *   link) within requestTimeoutMs; Node answers 408 and closes the connection otherwise;
 * - an idle keep-alive connection is closed after keepAliveTimeoutMs;
 * - at most maxConnections are open; Node drops connections beyond them at accept.
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
}

export function checkingIntervalMs(headersTimeoutMs: number, requestTimeoutMs: number): number {
  return Math.max(25, Math.min(1000, Math.floor(Math.min(headersTimeoutMs, requestTimeoutMs) / 4)));
}
