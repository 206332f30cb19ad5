import { Logger } from '@nestjs/common';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../../../src/config/config-loader';
import { PeerNotifier } from '../../../../src/pool/client/peer-notifier';
import { PoolEvents } from '../../../../src/pool/pool-events';
import type { PoolState } from '../../../../src/pool/routing/pool-state';
import { poolState } from '../fakes/pool-state.fixtures';
import { PoolRouter } from '../../../../src/pool/routing/pool-router.service';
import { InMemoryPoolStateStore } from '../fakes/in-memory-pool-state.store';
import { inProcessNode } from '../../../support/in-process-node';

const HEALTH_MS = 200;

/** A notifier wired to its own events, as in the pool module. */
function notifier(env: Record<string, string>) {
  const config = loadConfig({
    env: { PIXPOOL_POOL_HEALTH_INTERVAL_MS: String(HEALTH_MS), ...env },
  });
  const events = new PoolEvents();
  const sut = new PeerNotifier(config, events);
  sut.onModuleInit();
  return { sut, events };
}

async function msUntilCaughtUp(sut: PeerNotifier, state: PoolState): Promise<number> {
  const started = Date.now();
  await sut.caughtUp(state);
  return Date.now() - started;
}

describe('PeerNotifier: when every other instance has adopted an epoch', () => {
  let peer: http.Server;
  let peerUrl: string;
  const notified: unknown[] = [];

  beforeAll(async () => {
    Logger.overrideLogger(false);
    peer = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        notified.push(JSON.parse(body));
        res.setHeader('content-type', 'application/json');
        res.end('{"success":"true"}');
      });
    });
    await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
    peerUrl = `http://127.0.0.1:${(peer.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => peer.close(resolve)));

  it('once every configured peer answered its notify', async () => {
    const { sut, events } = notifier({ PIXPOOL_SERVER_PEERS: peerUrl });
    events.assignmentChanged(poolState(7, ['a', 'b']));

    expect(await msUntilCaughtUp(sut, poolState(7, ['a', 'b']))).toBeLessThan(HEALTH_MS);
    expect(notified).toContainEqual(expect.objectContaining({ epoch: 7 }));
  });

  it('two health intervals later when a peer cannot be told (it polls the stored epoch)', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const { sut, events } = notifier({
      PIXPOOL_SERVER_PEERS: `${peerUrl},http://127.0.0.1:${port}`,
    });
    events.assignmentChanged(poolState(8, ['a']));

    expect(await msUntilCaughtUp(sut, poolState(8, ['a']))).toBeGreaterThanOrEqual(
      2 * HEALTH_MS - 20,
    );
  });

  it('does not follow a redirect: the token stays with the peer, and the peer counts as not told', async () => {
    const token = 'peer-notify-token-padded-to-32-characters';
    const elsewhere: string[] = [];
    const thief = http.createServer((req, res) => {
      elsewhere.push(String(req.headers.authorization));
      res.end('{"success":"true"}');
    });
    await new Promise<void>((resolve) => thief.listen(0, '127.0.0.1', resolve));
    const thiefUrl = `http://127.0.0.1:${(thief.address() as AddressInfo).port}`;
    const redirecting = http.createServer((_req, res) => {
      res.writeHead(307, { location: `${thiefUrl}/api/notify` });
      res.end();
    });
    await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve));
    const port = (redirecting.address() as AddressInfo).port;
    try {
      const { sut, events } = notifier({
        PIXPOOL_SERVER_PEERS: `http://127.0.0.1:${port}`,
        PIXPOOL_SECURITY_ADMIN_TOKEN: token,
      });
      events.assignmentChanged(poolState(9, ['a']));
      expect(await msUntilCaughtUp(sut, poolState(9, ['a']))).toBeGreaterThanOrEqual(
        2 * HEALTH_MS - 20,
      );
      expect(elsewhere).toEqual([]);
    } finally {
      await new Promise((resolve) => redirecting.close(resolve));
      await new Promise((resolve) => thief.close(resolve));
    }
  });

  it('when a peer cannot be told: also until the longest lease the nodes grant is over, however short the health interval', async () => {
    const config = loadConfig({
      env: { PIXPOOL_POOL_HEALTH_INTERVAL_MS: '100', PIXPOOL_SERVER_PEERS: 'http://127.0.0.1:1' },
    });
    const router = new PoolRouter(config, new InMemoryPoolStateStore());
    router.leases.record('a', 1500); // what node a said it grants
    const sut = new PeerNotifier(config, new PoolEvents(), router);
    sut.onModuleInit();
    expect(await msUntilCaughtUp(sut, poolState(9, ['a']))).toBeGreaterThanOrEqual(1500 - 20);
  });

  it('when a peer cannot be told and a node joined before this instance heard its lease: the lease the node says, not the protocol bound', async () => {
    // A resize another instance made: this one adopted the new nodes a moment ago, before its
    // health checks reached them. Waiting 30 s (NEAR_MAX_LEASE_MS) held uploads that long.
    const node = inProcessNode({ nearLeaseMs: 400 });
    const { port } = await node.listen();
    const config = loadConfig({
      env: { PIXPOOL_POOL_HEALTH_INTERVAL_MS: '100', PIXPOOL_SERVER_PEERS: 'http://127.0.0.1:1' },
    });
    const router = new PoolRouter(config, new InMemoryPoolStateStore());
    const state: PoolState = {
      ...poolState(10, ['new']),
      nodes: [{ id: 'new', url: `http://127.0.0.1:${port}` }],
    };
    router.adopt(state);
    const sut = new PeerNotifier(config, new PoolEvents(), router);
    sut.onModuleInit();
    try {
      const waited = await Promise.race([
        msUntilCaughtUp(sut, state),
        new Promise<number>((resolve) => setTimeout(() => resolve(Infinity), 5_000)),
      ]);
      expect(waited).toBeGreaterThanOrEqual(400 - 20);
      expect(waited).toBeLessThan(5_000);
    } finally {
      router.onModuleDestroy();
      await node.close(100);
    }
  });

  it('at once for a lone instance on SQLite; after two intervals on a shared database without peers', async () => {
    const lone = notifier({});
    lone.events.assignmentChanged(poolState(3, ['a']));
    expect(await msUntilCaughtUp(lone.sut, poolState(3, ['a']))).toBeLessThan(HEALTH_MS);

    const shared = notifier({
      PIXPOOL_DATABASE_DRIVER: 'mysql',
      PIXPOOL_DATABASE_URL: 'mysql://root@127.0.0.1:3306/unused',
    });
    shared.events.assignmentChanged(poolState(4, ['a']));
    expect(await msUntilCaughtUp(shared.sut, poolState(4, ['a']))).toBeGreaterThanOrEqual(
      2 * HEALTH_MS - 20,
    );
  });

  it('a state another instance saved is notified to every peer, and waited for like its own', async () => {
    const { sut } = notifier({ PIXPOOL_SERVER_PEERS: peerUrl });
    expect(await msUntilCaughtUp(sut, poolState(42, ['a']))).toBeLessThan(HEALTH_MS);
    expect(notified).toContainEqual(expect.objectContaining({ epoch: 42 }));
    const count = notified.length;
    await sut.caughtUp(poolState(42, ['a'])); // once per epoch
    expect(notified).toHaveLength(count);
  });

  it('a peer that answers with an error (it could not adopt the epoch) is waited out', async () => {
    const refusing = http.createServer((_req, res) => {
      res.statusCode = 503;
      res.end('{"error":"could not adopt"}');
    });
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    try {
      const port = (refusing.address() as AddressInfo).port;
      const { sut } = notifier({ PIXPOOL_SERVER_PEERS: `http://127.0.0.1:${port}` });
      expect(await msUntilCaughtUp(sut, poolState(43, ['a']))).toBeGreaterThanOrEqual(
        2 * HEALTH_MS - 20,
      );
    } finally {
      await new Promise((resolve) => refusing.close(resolve));
    }
  });
});
