import { Logger } from '@nestjs/common';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

export interface GracefulShutdownParts {
  /** The app's HTTP server (listening). */
  server: Server;
  /** Resolves once no resize runs, refusing new ones from the call on (ResizeService.drain). */
  drainResizes(): Promise<void>;
  /** Everything else: Nest's app.close() (schedulers, pool, database, in that order). */
  close(): Promise<void>;
  /** Longest wait for requests in flight and a running resize (shutdown.graceMs). */
  graceMs: number;
}

/** How often connections that went idle while draining are closed. */
const IDLE_SWEEP_MS = 100;

/**
 * The app's answer to SIGTERM/SIGINT (systemd stop, an ASG replacing the instance, Ctrl-C):
 *
 * 1. stop accepting: the listening socket closes, so the load balancer's next connection goes
 *    elsewhere; responses from now on carry `Connection: close` and idle keep-alive connections are
 *    closed as soon as they are idle, so no client sends a new request into a closing process;
 * 2. finish the requests in flight (uploads included: their row and blob are committed and their
 *    invalidations sent before the reply, exactly as without a shutdown);
 * 3. let a running resize reach its end (its own safe point: it rolls back before the epoch is
 *    saved and forward after) and refuse to start another;
 * 4. close the rest (schedulers, pool, database) and exit 0.
 *
 * Steps 2 and 3 run together and are bounded by graceMs; past it the process exits 1 with what
 * it was still waiting for, which systemd logs. A second signal while draining is ignored: the
 * supervisor's own stop timeout (systemd TimeoutStopSec) is the hard stop.
 */
export class GracefulShutdown {
  private readonly logger = new Logger('shutdown');
  private draining = false;
  /** Responses not yet finished, so a drain can turn their keep-alive off too. */
  private readonly open = new Set<ServerResponse>();

  constructor(
    private readonly parts: GracefulShutdownParts,
    private readonly exit: (code: number) => void = (code) => process.exit(code),
  ) {
    // Runs before the app's own request listener (see bootstrap.ts), on every request.
    parts.server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
      if (this.draining) return closeAfter(res);
      this.open.add(res);
      res.once('close', () => this.open.delete(res));
    });
  }

  /** Installs the signal handlers. */
  listen(): this {
    for (const signal of ['SIGTERM', 'SIGINT'] as const)
      process.on(signal, () => void this.shutdown(signal));
    return this;
  }

  async shutdown(why: string): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    const started = Date.now();
    const { server, graceMs } = this.parts;
    this.logger.log(
      `${why}: no new connections; finishing requests in flight (up to ${graceMs} ms)`,
    );

    for (const res of this.open) closeAfter(res);
    const requestsDone = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
    const waiting = new Set(['requests in flight', 'a running resize']);
    const drained = Promise.all([
      requestsDone.then(() => waiting.delete('requests in flight')),
      this.parts.drainResizes().then(() => waiting.delete('a running resize')),
    ]);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), graceMs);
    });
    const late = await Promise.race([drained.then(() => false), timedOut]);
    clearTimeout(timer);
    clearInterval(sweep);
    if (late) {
      this.logger.error(
        `gave up after ${graceMs} ms still waiting for ${[...waiting].join(' and ')}`,
      );
      server.closeAllConnections();
    } else {
      this.logger.log(`drained in ${Date.now() - started} ms; closing`);
    }
    try {
      await this.parts.close();
    } catch (err) {
      this.logger.error(`closing failed: ${(err as Error).message}`);
      return this.exit(1);
    }
    this.exit(late ? 1 : 0);
  }
}

/** The response ends its connection (when its headers are still unsent: later is too late). */
function closeAfter(res: ServerResponse): void {
  if (!res.headersSent) res.setHeader('Connection', 'close');
}
