import { ConsoleLogger, Logger, LogLevel, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { ImageFastPath } from './frontend/image-fast-path';
import { AppModule } from './app.module';
import { AppConfig } from './config/app-config';
import { CourseExceptionFilter } from './common/course-exception.filter';
import { PAGES_DIR } from './frontend/pages.controller';
import { GracefulShutdown } from './lifecycle/graceful-shutdown';
import { ResizeService } from './pool/membership/resize.service';
import { applyServerLimits } from './common/server-limits';
import { describeAdminAccess } from './common/admin.guard';
import { BrowserRequestGate } from './common/browser/request-gate';
import { HostAllowList } from './common/browser/host-allow-list';
import { securityHeaders } from './common/browser/security-headers';

const LOG_LEVELS: LogLevel[] = ['log', 'warn', 'error'];

/** Builds the app (not listening yet), so tests and main.ts share one setup. */
export async function createApp(config: AppConfig): Promise<NestExpressApplication> {
  giveLocalNodesARunSecret(config);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    // json: Nest's own JSON lines (level, pid, timestamp, message, context), for log pipelines.
    logger:
      config.log.format === 'json'
        ? new ConsoleLogger({ json: true, logLevels: LOG_LEVELS })
        : LOG_LEVELS,
  });
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, transform: true }));
  app.useGlobalFilters(new CourseExceptionFilter(config.resilience.retryAfterSeconds));
  app.use(securityHeaders(config.security.tlsInFront));
  app.useStaticAssets(path.join(PAGES_DIR, 'assets'), { prefix: '/assets/', maxAge: '1h' });
  app.disable('x-powered-by');
  // Whose X-Forwarded-For names the client (req.ip, what the per-client rate limits count by).
  if (config.server.trustProxy) app.set('trust proxy', config.server.trustProxy);
  routeImageReadsFirst(
    app,
    new BrowserRequestGate(new HostAllowList(config.security.allowedHosts)),
  );
  applyServerLimits(app.getHttpServer() as Server, config.limits);

  const openApi = new DocumentBuilder()
    .setTitle('pixpool')
    .setDescription('Distributed image cache: course-compatible API, images, pool manager')
    .setVersion('0.1.0')
    .addBearerAuth()
    .build();
  SwaggerModule.setup('api/docs', app, () => SwaggerModule.createDocument(app, openApi));
  return app;
}

export async function listen(app: NestExpressApplication, config: AppConfig): Promise<string> {
  await app.listen(config.server.port, config.server.host);
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.server.port;
  const url = `http://${config.server.host === '0.0.0.0' ? '127.0.0.1' : config.server.host}:${port}`;
  const logger = new Logger('pixpool');
  logger.log(`pixpool listening on ${url}`);
  logger.log(describeAdminAccess(config));
  if (config.security.allowInsecureNetwork && !config.security.adminToken) {
    logger.warn(
      `security.allowInsecureNetwork is on and security.adminToken is empty: on ${config.server.host} ` +
        'loopback-only routes stay loopback-only, but nothing authenticates anyone else',
    );
  }
  return url;
}

/**
 * SIGTERM/SIGINT drain the app instead of Nest's enableShutdownHooks, which would close the
 * database under requests still in flight (see lifecycle/graceful-shutdown.ts).
 */
export function shutDownGracefully(
  app: NestExpressApplication,
  config: AppConfig,
): GracefulShutdown {
  const resizes = app.get(ResizeService);
  return new GracefulShutdown({
    server: app.getHttpServer() as Server,
    drainResizes: () => resizes.drain(),
    close: () => app.close(),
    graceMs: config.shutdown.graceMs,
  }).listen();
}

/**
 * Puts ImageFastPath in front of Express on the app's own server (see image-fast-path.ts), with
 * the browser gate (foreign Host, cross-site state change) in front of both.
 */
function routeImageReadsFirst(app: NestExpressApplication, gate: BrowserRequestGate): void {
  const server = app.getHttpServer() as Server;
  const fastPath = app.get(ImageFastPath);
  const framework = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!gate.admit(req, res)) return;
    if (!fastPath.handle(req, res)) for (const listener of framework) listener(req, res);
  });
}

/**
 * Local cache nodes listen on loopback, where any local process could otherwise write into the
 * cache: without a configured secret they get a random one for this run, known only to this
 * process and the nodes it starts (passed in their environment, never in argv).
 */
function giveLocalNodesARunSecret(config: AppConfig): void {
  if (config.pool.provider !== 'local' || config.security.nodeSecret) return;
  config.security.nodeSecret = randomBytes(24).toString('base64url');
}
