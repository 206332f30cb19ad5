import { INestApplication, ValidationPipe } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { NextFunction, Request, Response } from 'express';
import { CourseExceptionFilter } from '../../../src/common/course-exception.filter';
import { AppConfig } from '../../../src/config/app-config';
import { loadConfig } from '../../../src/config/config-loader';
import { CacheConfigService } from '../../../src/manager/cache-config.service';
import { CourseManagerService } from '../../../src/manager/course/course-manager.service';
import { ManagerAutoscalerService } from '../../../src/manager/manager-autoscaler.service';
import { ManagerDataService } from '../../../src/manager/manager-data.service';
import { ManagerPoolService } from '../../../src/manager/manager-pool.service';
import { ManagerStatsService } from '../../../src/manager/manager-stats.service';
import { MANAGER_CONTROLLERS } from '../../../src/manager/manager.module';
import { DATABASE_GUARD } from '../../../src/database/database.module';
import { GuardedBlobStore } from '../../../src/storage/guarded-blob-store';

/** The guard is the subject: each service method behind the routes answers with an empty object. */
function answeringAnything(service: { prototype: object }): Record<string, () => object> {
  const methods = Object.getOwnPropertyNames(service.prototype).filter((n) => n !== 'constructor');
  return Object.fromEntries(methods.map((name) => [name, () => ({})]));
}
const SERVICES = [
  ManagerPoolService,
  ManagerStatsService,
  CacheConfigService,
  ManagerAutoscalerService,
  ManagerDataService,
  CourseManagerService,
];
const REMOTE = '203.0.113.7';
const LOOPBACK = '127.0.0.1';
const PAGES = ['/manager', '/manager/assets/:file', '/assets/vendor/chart.js'];
const COURSE = ['/api/getNumNodes', '/api/getRate', '/api/configure_cache', '/api/delete_all'];

interface Route {
  method: string;
  path: string;
}

async function startGuarded(security: Partial<AppConfig['security']>) {
  const config = loadConfig({ overrides: { security } });
  const moduleRef = await Test.createTestingModule({
    controllers: MANAGER_CONTROLLERS,
    providers: [
      { provide: AppConfig, useValue: config },
      ...SERVICES.map((service) => ({ provide: service, useValue: answeringAnything(service) })),
      // The dependencies route reads the breakers' state only.
      { provide: DATABASE_GUARD, useValue: { dependency: 'database', state: 'closed' } },
      {
        provide: GuardedBlobStore,
        useValue: { guard: { dependency: 'storage', state: 'closed' } },
      },
    ],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  // The forged peer address, as a proxy-less network caller would have it. Sent with every
  // request, since a kept-alive socket would otherwise keep the previous request's address.
  app.use((req: Request, _res: Response, next: NextFunction) => {
    const forged = req.headers['x-test-remote-address'];
    if (typeof forged === 'string') {
      Object.defineProperty(req.socket, 'remoteAddress', { value: forged, configurable: true });
    }
    next();
  });
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, transform: true }));
  app.useGlobalFilters(new CourseExceptionFilter());
  await app.listen(0, '127.0.0.1');
  return { app, url: await app.getUrl() };
}

/** Every route the manager's controllers registered, read from Express's route table. */
function routesOf(app: INestApplication): Route[] {
  const express = app.getHttpAdapter().getInstance() as {
    router: { stack: { route?: { path: string; methods: Record<string, boolean> } }[] };
  };
  return express.router.stack.flatMap((layer) =>
    layer.route
      ? Object.keys(layer.route.methods).map((method) => ({
          method: method.toUpperCase(),
          path: layer.route!.path,
        }))
      : [],
  );
}

async function call(
  url: string,
  route: Route,
  from: string,
  token?: string,
  extraHeaders: Record<string, string> = {},
): Promise<number> {
  const headers: Record<string, string> = { ...extraHeaders, 'x-test-remote-address': from };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${url}${route.path}`, { method: route.method, headers });
  await res.arrayBuffer();
  return res.status;
}

/** "allowed" for any answer but the guard's refusals, so a 400 from validation still counts as let in. */
const verdict = (status: number) => (status === 401 || status === 403 ? status : 'allowed');

async function verdicts(
  url: string,
  routes: Route[],
  from: string,
  token?: string,
  extraHeaders?: Record<string, string>,
) {
  const result: Record<string, number | 'allowed'> = {};
  for (const route of routes) {
    const status = await call(url, route, from, token, extraHeaders);
    result[`${route.method} ${route.path}`] = verdict(status);
  }
  return result;
}

describe('manager and course endpoints behind the admin guard', () => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  function guarded(all: Route[]): Route[] {
    return all.filter((route) => !PAGES.includes(route.path));
  }

  it('covers every manager route and the four course tester routes (state-changing ones POST only)', async () => {
    const started = await startGuarded({ adminToken: 'sesame-padded-to-32-characters-long' });
    app = started.app;
    const paths = new Set(guarded(routesOf(app)).map((r) => `${r.method} ${r.path}`));
    for (const path of COURSE) expect(paths).toContain(`POST ${path}`);
    expect(paths).toContain('GET /api/getNumNodes');
    expect(paths).toContain('GET /api/getRate');
    expect(paths).not.toContain('GET /api/configure_cache');
    expect(paths).not.toContain('GET /api/delete_all');
    expect([...paths].filter((p) => p.includes('/api/manager/')).length).toBeGreaterThanOrEqual(11);
  });

  it('with a token configured: refuses remote and loopback callers without it, accepts it', async () => {
    const started = await startGuarded({ adminToken: 'sesame-padded-to-32-characters-long' });
    app = started.app;
    const routes = guarded(routesOf(app));
    const none = await verdicts(started.url, routes, REMOTE);
    const wrong = await verdicts(
      started.url,
      routes,
      REMOTE,
      'open sesame-padded-to-32-characters-long',
    );
    const local = await verdicts(started.url, routes, LOOPBACK);
    const right = await verdicts(
      started.url,
      routes,
      REMOTE,
      'sesame-padded-to-32-characters-long',
    );
    for (const name of Object.keys(none)) {
      expect([name, none[name]]).toEqual([name, 401]);
      expect([name, wrong[name]]).toEqual([name, 401]);
      expect([name, local[name]]).toEqual([name, 401]);
      expect([name, right[name]]).toEqual([name, 'allowed']);
    }
  });

  it('with no token configured: answers loopback callers only', async () => {
    const started = await startGuarded({ adminToken: '' });
    app = started.app;
    const routes = guarded(routesOf(app));
    const remote = await verdicts(started.url, routes, REMOTE);
    const ipv6Remote = await verdicts(started.url, routes, '2001:db8::1');
    const local = await verdicts(started.url, routes, '::ffff:127.0.0.1');
    for (const name of Object.keys(remote)) {
      expect([name, remote[name]]).toEqual([name, 403]);
      expect([name, ipv6Remote[name]]).toEqual([name, 403]);
      expect([name, local[name]]).toEqual([name, 'allowed']);
    }
  });

  // A reverse proxy on the same host (nginx, Caddy terminating TLS) connects from loopback: what
  // it forwards comes from anyone on the internet.
  it.each([
    ['X-Forwarded-For', '203.0.113.7'],
    ['Forwarded', 'for=203.0.113.7;proto=https'],
    ['X-Real-IP', '203.0.113.7'],
  ])(
    'with no token configured: refuses a loopback request a proxy forwarded (%s)',
    async (header, value) => {
      const started = await startGuarded({ adminToken: '' });
      app = started.app;
      const routes = guarded(routesOf(app));
      const forwarded = await verdicts(started.url, routes, LOOPBACK, undefined, {
        [header]: value,
      });
      for (const [name, status] of Object.entries(forwarded)) {
        expect([name, status]).toEqual([name, 403]);
      }
    },
  );

  it('with no token and security.trustLoopback off: refuses loopback callers too', async () => {
    const started = await startGuarded({ adminToken: '', trustLoopback: false });
    app = started.app;
    const routes = guarded(routesOf(app));
    const local = await verdicts(started.url, routes, LOOPBACK);
    for (const [name, status] of Object.entries(local)) expect([name, status]).toEqual([name, 403]);
  });

  it('openCourseEndpoints opens the four course routes to anyone, and nothing else', async () => {
    const started = await startGuarded({
      adminToken: 'sesame-padded-to-32-characters-long',
      openCourseEndpoints: true,
    });
    app = started.app;
    const routes = guarded(routesOf(app));
    const remote = await verdicts(started.url, routes, REMOTE);
    for (const [name, status] of Object.entries(remote)) {
      const course = COURSE.some((path) => name.endsWith(` ${path}`));
      expect([name, status]).toEqual([name, course ? 'allowed' : 401]);
    }
  });

  it('serves the dashboard page itself to anyone: it holds no data', async () => {
    const started = await startGuarded({ adminToken: 'sesame-padded-to-32-characters-long' });
    app = started.app;
    const page = await call(started.url, { method: 'GET', path: '/manager' }, REMOTE);
    const chart = await call(
      started.url,
      { method: 'GET', path: '/assets/vendor/chart.js' },
      REMOTE,
    );
    expect([page, chart]).toEqual([200, 200]);
  });
});
