import { Logger } from '@nestjs/common';
import { loadConfig } from '../../../src/config/config-loader';
import type { CacheNode } from '../../../src/cache-node/server';
import { ReadPathService } from '../../../src/frontend/read-path.service';
import { NearCacheService } from '../../../src/near-cache/near-cache.service';
import { CacheNodeClient } from '../../../src/pool/client/cache-node.client';
import type { MembershipService } from '../../../src/pool/membership/membership.service';
import { NodeFailureService } from '../../../src/pool/membership/node-failure.service';
import { PeerNotifier } from '../../../src/pool/client/peer-notifier';
import { PoolEvents } from '../../../src/pool/pool-events';
import { PoolCacheService } from '../../../src/pool/pool-cache.service';
import { PoolRouter } from '../../../src/pool/routing/pool-router.service';
import type { PoolState } from '../../../src/pool/routing/pool-state';
import { partition } from '../../../src/protocol/hash-ring';
import { inProcessNode } from '../../support/in-process-node';
import { spawnCacheNode } from '../../support/spawn-cache-node';
import { startFaultProxy } from '../../support/fault-proxy';
import { InMemoryPoolStateStore } from '../pool/fakes/in-memory-pool-state.store';
import { eventually } from '../../support/eventually';

/*
 * Two front-ends whose views of the pool differ for a moment, as after a save that one has
 * adopted and the other not yet: each has a real PoolRouter, NearCacheService, PoolCacheService
 * and upload path (ReadPathService.invalidate) over one shared pool-state row, against real
 * in-process cache nodes. Waiting "until every instance routes by this assignment" is modelled as
 * what a notify does: every front-end reloads the stored state. Each scenario used to acknowledge
 * the upload at once and let the other front-end read the old image (found in review).
 */

const LEASE_MS = 3000; // the front-ends confirm their epoch every second; the scenarios take ms
const ALL = Array.from({ length: 16 }, (_, r) => r);
jest.setTimeout(30_000);

/** Rows and blobs, shared by the front-ends (the database and the bucket). */
class Storage {
  rows = new Map<string, { objectName: string; contentType: string; version: number }>();
  blobs = new Map<string, Buffer>();
  commit(key: string, version: number): void {
    const objectName = `${key}-${version}`;
    this.blobs.set(objectName, Buffer.from(`${key}@${version}`));
    this.rows.set(key, { objectName, contentType: 'image/png', version });
  }
  table = { find: async (key: string) => this.rows.get(key) ?? null };
  blobStore = { get: async (name: string) => this.blobs.get(name) ?? null };
}

interface FrontEnd {
  router: PoolRouter;
  near: NearCacheService;
  readPath: ReadPathService;
  /** When it read the stored epoch (its periodic confirmation), to time the scenarios. */
  epochReads: number[];
  /** Cut off from the database (and, where peers are named, from them). */
  cutOff: boolean;
}

function notifier(config: ReturnType<typeof loadConfig>, router: PoolRouter): PeerNotifier {
  const sut = new PeerNotifier(config, new PoolEvents(), router);
  sut.onModuleInit();
  return sut;
}

describe('two front-ends whose views of the pool differ for a moment (near cache on)', () => {
  let db: InMemoryPoolStateStore;
  let storage: Storage;
  const frontEnds: FrontEnd[] = [];
  const closers: Array<() => unknown> = [];

  /**
   * A front-end; `nodeUrls` maps node ids to the address it reaches them at (a proxy, say).
   * `realWaits`: its uploads wait as the app's do (NodeFailureService and PeerNotifier, with
   * `env`) instead of every front-end reloading the stored state at once.
   */
  function frontEnd(
    nodeUrls: Record<string, string> = {},
    realWaits?: Record<string, string>,
  ): FrontEnd {
    const config = loadConfig({
      env: {
        PIXPOOL_NEAR_CACHE_CAPACITY_MB: '8',
        PIXPOOL_NEAR_CACHE_LEASE_MS: String(LEASE_MS),
        PIXPOOL_NEAR_CACHE_REPORT_INTERVAL_MS: '100',
        ...realWaits,
      },
    });
    const reach = (list: PoolState['nodes']) =>
      list.map((n) => (nodeUrls[n.id] ? { ...n, url: nodeUrls[n.id] } : n));
    const seen = (s: PoolState | null): PoolState | null =>
      s && {
        ...s,
        nodes: reach(s.nodes),
        previous: s.previous ? { ...s.previous, nodes: reach(s.previous.nodes) } : null,
      };
    const epochReads: number[] = [];
    const fe = { cutOff: false } as FrontEnd;
    const reachable = () => {
      if (fe.cutOff) throw new Error('cut off from the database');
    };
    const view = {
      load: async () => {
        reachable();
        return seen(await db.load());
      },
      compareAndSave: (epoch: number, s: PoolState) => db.compareAndSave(epoch, s),
      epoch: async () => {
        reachable();
        epochReads.push(Date.now());
        return db.epoch();
      },
    };
    const router = new PoolRouter(config, view);
    router.adopt(seen(db.stored)!);
    const near = new NearCacheService(config, router, view);
    const failures = realWaits
      ? new NodeFailureService(
          config,
          router,
          {} as MembershipService,
          view,
          null,
          null,
          notifier(config, router),
        )
      : ({
          suspect: () => undefined,
          quarantineNow: async () => undefined,
          waitOutLeases: () => new Promise((resolve) => setTimeout(resolve, LEASE_MS)),
          everyInstanceRoutesBy: async () => {
            await Promise.all(frontEnds.map((fe) => fe.router.reload()));
          },
        } as unknown as NodeFailureService);
    const readPath = new ReadPathService(
      storage.table as never,
      storage.blobStore as never,
      new PoolCacheService(router, failures),
      near,
      config,
    );
    near.onModuleInit();
    Object.assign(fe, { router, near, readPath, epochReads });
    frontEnds.push(fe);
    closers.push(
      () => near.onApplicationShutdown(),
      () => router.onModuleDestroy(),
    );
    return fe;
  }

  async function listening(node: CacheNode): Promise<{ url: string; admin: CacheNodeClient }> {
    const url = `http://127.0.0.1:${(await node.listen()).port}`;
    const admin = new CacheNodeClient({ url, timeoutMs: 1000, waitTimeoutMs: 1000 + LEASE_MS });
    closers.push(
      () => admin.close(),
      () => node.close(100),
    );
    return { url, admin };
  }

  /** Resolves right after each front-end confirmed its epoch: its next poll is a while away. */
  async function justAfterPoll(...fes: FrontEnd[]): Promise<void> {
    const before = fes.map((fe) => fe.epochReads.length);
    await eventually(
      'epoch polls',
      () => fes.every((fe, i) => fe.epochReads.length > before[i]),
      5000,
    );
  }

  /** Reads `key` through `fe` until it is a near copy of `version`. */
  async function holdNear(fe: FrontEnd, key: string, version: number): Promise<void> {
    await eventually('the region to be served near', () => fe.near.ticket(key) !== undefined, 5000);
    for (let i = 0; i < 2; i++) expect((await fe.readPath.read(key))?.version).toBe(version);
    expect(fe.near.lookup(key)?.version).toBe(version);
  }

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(() => {
    storage = new Storage();
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    frontEnds.splice(0);
  });

  const onOne = (epoch: number, url: string, quarantined?: string[]): PoolState => ({
    epoch,
    owners: ALL.map(() => 'n1'),
    nodes: [{ id: 'n1', url }],
    previous: null,
    ...(quarantined ? { quarantined } : {}),
  });

  it('an uploader still seeing a node quarantined tells it once it has rejoined', async () => {
    const { url, admin } = await listening(inProcessNode());
    await admin.setOwnership(2, ALL);
    db = new InMemoryPoolStateStore(onOne(3, url, ['n1'])); // n1 quarantined at epoch 3
    const uploader = frontEnd();
    const reader = frontEnd();
    storage.commit('k', 1);

    // The leader rejoins n1 (emptied, its regions at epoch 4) and saves epoch 4; the reader is
    // notified, the uploader's notify is late and its next poll a while away.
    await justAfterPoll(uploader, reader);
    await admin.clear();
    await admin.setOwnership(4, ALL);
    db.saveAsAnotherInstance(onOne(4, url));
    await reader.router.reload();
    await holdNear(reader, 'k', 1); // filled into n1 and held near by the reader

    storage.commit('k', 2);
    await uploader.readPath.invalidate('k', 2); // the upload of v2, acknowledged after this

    expect(reader.near.lookup('k')).toBeUndefined();
    expect((await reader.readPath.read('k'))?.version).toBe(2);
  });

  it('an upload skipping a quarantined node waits until the other front-end stops reading it', async () => {
    const { url, admin } = await listening(inProcessNode());
    await admin.setOwnership(1, ALL);
    db = new InMemoryPoolStateStore(onOne(1, url));
    const uploader = frontEnd();
    const reader = frontEnd(); // still reaches n1
    storage.commit('q', 1);
    await holdNear(reader, 'q', 1);

    // n1 is quarantined at epoch 2 (the uploader's probes failed); the uploader routes by it, the
    // reader has not adopted it yet.
    await justAfterPoll(reader);
    db.saveAsAnotherInstance(onOne(2, url, ['n1']));
    await uploader.router.reload();

    storage.commit('q', 2);
    await uploader.readPath.invalidate('q', 2);

    expect(reader.router.isQuarantined('n1')).toBe(true);
    expect((await reader.readPath.read('q'))?.version).toBe(2);
  });

  it('an upload skipping an owner already quarantined waits out the lease of a front-end cut off from the database and its peers', async () => {
    const { url, admin } = await listening(inProcessNode());
    await admin.setOwnership(1, ALL);
    db = new InMemoryPoolStateStore(onOne(1, url));
    // Its peer (the reader) cannot be told; quarantines are adopted within 2 x 100 ms otherwise.
    const uploader = frontEnd(
      {},
      {
        PIXPOOL_POOL_HEALTH_INTERVAL_MS: '100',
        PIXPOOL_SERVER_PEERS: 'http://127.0.0.1:1',
      },
    );
    const reader = frontEnd(); // keeps reaching n1 and renewing its lease there
    storage.commit('q', 1);
    await holdNear(reader, 'q', 1);

    // The reader loses the database and its peers right after confirming its epoch; then n1 is
    // quarantined (another instance's probes failed) and the uploader adopts it.
    await justAfterPoll(reader);
    reader.cutOff = true;
    db.saveAsAnotherInstance(onOne(2, url, ['n1']));
    await uploader.router.reload();

    storage.commit('q', 2);
    await uploader.readPath.invalidate('q', 2); // skips n1: acknowledged after this

    expect(reader.router.epoch).toBe(1); // it never learnt of the quarantine
    expect(reader.near.lookup('q')).toBeUndefined();
  });

  it('an upload whose previous owner is unreachable mid-resize waits until nobody reads that owner', async () => {
    const oldOwner = await listening(inProcessNode());
    const newOwner = await listening(inProcessNode());
    const proxy = await startFaultProxy({
      target: { host: '127.0.0.1', port: Number(new URL(oldOwner.url).port) },
    });
    closers.push(() => proxy.close());
    const key = 'k';
    const moved = partition(key);
    await oldOwner.admin.setOwnership(1, ALL);
    await newOwner.admin.setOwnership(1, []);
    const nodes = [
      { id: 'o', url: oldOwner.url },
      { id: 'n', url: newOwner.url },
    ];
    const before: PoolState = { epoch: 1, owners: ALL.map(() => 'o'), nodes, previous: null };
    db = new InMemoryPoolStateStore(before);
    const uploader = frontEnd({ o: `http://127.0.0.1:${proxy.port}` }); // reaches o via the proxy
    const reader = frontEnd(); // reaches o directly
    storage.commit(key, 1);
    await holdNear(reader, key, 1);

    // The old owner is cut off from the uploader (and the manager); a resize moving the key's
    // region to the new owner is saved; the new owner has not taken the region yet.
    await proxy.set('refuse');
    await justAfterPoll(reader);
    db.saveAsAnotherInstance({
      epoch: 2,
      owners: ALL.map((r) => (r === moved ? 'n' : 'o')),
      nodes,
      previous: { owners: before.owners, nodes },
    });
    await uploader.router.reload();

    storage.commit(key, 2);
    await uploader.readPath.invalidate(key, 2);

    expect(reader.router.epoch).toBe(2);
    expect((await reader.readPath.read(key))?.version).toBe(2);
  });

  it('a node killed and restarted on its address, its subscription silent: an upload through another front-end leaves no near hit of the old image', async () => {
    const first = await spawnCacheNode();
    const url = first.url;
    const admin = new CacheNodeClient({ url, timeoutMs: 1000, waitTimeoutMs: 1000 + LEASE_MS });
    closers.push(() => admin.close());
    await admin.setOwnership(1, ALL);
    db = new InMemoryPoolStateStore(onOne(1, url));
    const proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: first.port } });
    closers.push(() => proxy.close());
    const reader = frontEnd({ n1: `http://127.0.0.1:${proxy.port}` });
    const uploader = frontEnd({}, {}); // its uploads wait as the app's do
    storage.commit('r', 1);
    await holdNear(reader, 'r', 1);

    // The reader's link goes silent (it never sees the connection close); the node is killed
    // and its supervisor restarts it on the same address.
    await proxy.set('blackhole');
    first.process.kill('SIGKILL');
    await new Promise((resolve) => first.process.once('exit', resolve));
    const second = await spawnCacheNode({ port: first.port });
    closers.push(() => second.stop());

    storage.commit('r', 2);
    await uploader.readPath.invalidate('r', 2); // acknowledged after this

    expect(reader.near.lookup('r')).toBeUndefined();
    expect((await uploader.readPath.read('r'))?.version).toBe(2);
  });
});
