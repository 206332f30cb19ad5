import { spawnSync } from 'node:child_process';
import * as http from 'node:http';
import { partition } from '../../src/protocol/hash-ring';
import { AppProcess, startApp } from '../support/app-process';
import { readChecked, uploadChecked } from '../support/checked-io';
import { ConsistencyChecker } from '../support/consistency-checker';
import { makePng } from '../support/images';
import { LoadReport, startLoad } from '../support/load';
import { createTestNetwork, describeWithNetns, TestNetwork } from '../support/netns';
import { NamespaceRelay, startNamespaceRelay } from '../support/netns-relay';
import { spawnCacheNode, SpawnedCacheNode } from '../support/spawn-cache-node';

/*
 * The pool across hosts: the app and four cache nodes each in a network namespace of their own
 * (test/support/netns.ts), nodes bound to 0.0.0.0 with the node secret, the static provider, and
 * every node reached through a user-space relay in its host (the kernel has no netem) so a test
 * can add latency, reset or stall connections; a link cut is `ip link set eth0 down` in the host.
 * What is asserted is what a user sees: every read succeeds (from storage while a node cannot be
 * reached), no read is stale while a writer runs, and the pool serves from all its nodes again
 * once the fault is gone.
 */

const SECRET = 'netns-node-secret-padded-to-32-characters';
const TOKEN = 'netns-admin-token-padded-to-32-characters';
const NODE_PORT = 5001;
const RELAY_PORT = 6001;
const KEYS = Array.from({ length: 48 }, (_, i) => `k-${i}`);
const HOT = Array.from({ length: 8 }, (_, i) => `hot-${i}`);
const NODES = ['n1', 'n2', 'n3', 'n4'];
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** GET /health on fresh connections (no keep-alive): how many of `count` fail within 700 ms. */
async function failingProbes(hostPort: string, count: number): Promise<number> {
  const one = () =>
    new Promise<boolean>((resolve) => {
      const req = http.get(`http://${hostPort}/health`, { agent: false, timeout: 700 }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 200));
        res.on('error', () => resolve(false));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => resolve(false));
    });
  const results = await Promise.all(Array.from({ length: count }, one));
  return results.filter((ok) => !ok).length;
}

interface PoolView {
  size: number;
  epoch: number;
  owners: string[];
  nodes: Array<{ id: string; url: string; regions: number[]; health: { ok: boolean } | null }>;
  resize: { running: boolean };
}

describeWithNetns('the pool across network namespaces', () => {
  let net: TestNetwork;
  let app: AppProcess;
  const nodes = new Map<string, SpawnedCacheNode>();
  const relays = new Map<string, NamespaceRelay>();
  const checker = new ConsistencyChecker();

  const admin = { authorization: `Bearer ${TOKEN}` };
  const nodeId = (name: string) => `static-${net.host(name).address}:${RELAY_PORT}`;
  const pool = async (): Promise<PoolView> => {
    const res = await fetch(`${app.url}/api/manager/pool`, { headers: admin });
    return (await res.json()) as PoolView;
  };
  const cacheStatus = async (key: string) => {
    const res = await fetch(`${app.url}/images/${key}`);
    await res.arrayBuffer();
    return `${res.status} ${res.headers.get('x-cache')}`;
  };
  /** Waits until no resize runs and every member answered its last health check (and `size`). */
  const settled = async (timeoutMs: number, size?: number): Promise<PoolView> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const view = await pool();
      const healthy = view.nodes.every((node) => node.health?.ok === true);
      const sized = size === undefined || view.size === size;
      if ((!view.resize.running && healthy && sized) || Date.now() > deadline) return view;
      await sleep(250);
    }
  };
  const resizeTo = async (size: number) => {
    const res = await fetch(`${app.url}/api/manager/pool/size`, {
      method: 'PUT',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ size }),
    });
    expect([200, 202]).toContain(res.status);
    const deadline = Date.now() + 20_000;
    while ((await pool()).size !== size || (await pool()).resize.running) {
      if (Date.now() > deadline) throw new Error(`pool did not reach ${size} nodes in 20 s`);
      await sleep(200);
    }
  };
  /** Every key read once: all 200 and checked against the acknowledged uploads. */
  const readAll = async (): Promise<string[]> => {
    const failed: string[] = [];
    for (const key of [...KEYS, ...HOT]) {
      const res = await readChecked(checker, app.url, key);
      if (res.status !== 200) failed.push(`${key}: ${res.status}`);
    }
    return failed;
  };
  const underLoad = async (fault: () => Promise<void>): Promise<LoadReport> => {
    const load = startLoad(() => app.url, checker, {
      readKeys: KEYS,
      writeKeys: HOT,
      readers: 4,
      writers: 1,
    });
    await sleep(300);
    try {
      await fault();
    } finally {
      await load.stop();
    }
    return load.report;
  };

  beforeAll(async () => {
    net = createTestNetwork(['app', ...NODES]);
    await Promise.all(
      NODES.map(async (name) => {
        const host = net.host(name);
        nodes.set(
          name,
          await spawnCacheNode({
            prefix: host.exec,
            host: '0.0.0.0',
            port: NODE_PORT,
            secret: SECRET,
            capacityMb: 16,
            startTimeoutMs: 20_000,
          }),
        );
        relays.set(
          name,
          await startNamespaceRelay({
            prefix: host.exec,
            listen: { host: host.address, port: RELAY_PORT },
            target: { host: host.address, port: NODE_PORT },
          }),
        );
      }),
    );
    const appHost = net.host('app');
    app = await startApp({
      prefix: appHost.exec,
      env: {
        PIXPOOL_SERVER_HOST: appHost.address,
        PIXPOOL_SERVER_PORT: '5000',
        PIXPOOL_SECURITY_ADMIN_TOKEN: TOKEN,
        PIXPOOL_SECURITY_NODE_SECRET: SECRET,
        PIXPOOL_SECURITY_OPEN_COURSE_ENDPOINTS: 'true',
        PIXPOOL_POOL_PROVIDER: 'static',
        PIXPOOL_POOL_STATIC_NODES: NODES.map((n) => `${net.host(n).address}:${RELAY_PORT}`).join(),
        PIXPOOL_POOL_INITIAL: '3',
        PIXPOOL_POOL_HEALTH_INTERVAL_MS: '500',
      },
    });
    for (const key of [...KEYS, ...HOT]) {
      expect((await uploadChecked(checker, app.url, key, makePng(3000))).status).toBe(200);
    }
    expect(await readAll()).toEqual([]); // fills the nodes
  }, 90_000);

  afterAll(async () => {
    await app?.stop();
    await Promise.all([...relays.values()].map((relay) => relay.stop()));
    await Promise.all([...nodes.values()].map((node) => node.stop()));
    net?.destroy();
    const left = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
    expect(left.split('\n').filter((ns) => ns.startsWith(`pxt${process.pid}-`))).toEqual([]);
    const links = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout;
    expect(links).not.toMatch(new RegExp(`px[bv]${process.pid}\\b|px[bv]${process.pid}[hp]`));
  }, 30_000);

  it('spans hosts: nodes listen on their host address and answer only with the secret', async () => {
    const n1 = `http://${net.host('n1').address}:${NODE_PORT}`;
    expect((await fetch(`${n1}/v1/config`)).status).toBe(401);
    expect(
      (await fetch(`${n1}/v1/config`, { headers: { 'x-pixpool-secret': SECRET } })).status,
    ).toBe(200);
    const view = await pool();
    expect(view.nodes.map((node) => node.id)).toEqual(['n1', 'n2', 'n3'].map(nodeId));
    expect(await cacheStatus(KEYS[0])).toBe('200 HIT');
  });

  it('moves cached regions between hosts when the pool grows and shrinks', async () => {
    await resizeTo(4);
    const grown = await pool();
    expect(grown.nodes.find((node) => node.id === nodeId('n4'))?.regions.length).toBeGreaterThan(0);
    const afterGrow = await Promise.all(KEYS.map(cacheStatus));
    expect(afterGrow.filter((status) => status !== '200 HIT')).toEqual([]);

    await resizeTo(3);
    expect((await pool()).nodes.map((node) => node.id)).toEqual(['n1', 'n2', 'n3'].map(nodeId));
    const afterShrink = await Promise.all(KEYS.map(cacheStatus));
    expect(afterShrink.filter((status) => status !== '200 HIT')).toEqual([]);
  }, 60_000);

  it("a node's link cut for 4 s and restored: no failed or stale read, and the pool serves from three nodes after", async () => {
    const relayOfN2 = relays.get('n2')?.address as string;
    const noticed: string[] = [];
    const report = await underLoad(async () => {
      net.cut('n2');
      expect(await failingProbes(relayOfN2, 3)).toBe(3); // the cut is real
      for (let i = 0; i < 16; i++) {
        const n2 = (await pool()).nodes.find((node) => node.id === nodeId('n2'));
        if (!n2 || n2.health?.ok === false) noticed.push(n2 ? 'unhealthy' : 'removed');
        await sleep(250);
      }
      net.restore('n2');
      await sleep(1_000);
    });
    expect(noticed.length).toBeGreaterThan(0); // the app saw the node go
    expect(report.errors).toEqual([]);
    expect(report.staleReads).toEqual([]);
    expect(report.reads).toBeGreaterThan(50);

    // The pool keeps (quarantine, rejoin) or regains (replacement) its three nodes by itself.
    const after = await settled(30_000, 3);
    expect(after.size).toBe(3);
    const view = await settled(20_000);
    expect(view.size).toBe(3);
    expect(view.nodes.every((node) => node.health?.ok)).toBe(true);
    // the restored host is reachable again, and whatever it missed while cut off is never served
    expect((await fetch(`http://${net.host('n2').address}:${RELAY_PORT}/health`)).status).toBe(200);
    const check = await underLoad(() => sleep(2_000));
    expect(check.errors).toEqual([]);
    expect(check.staleReads).toEqual([]);
    expect(await readAll()).toEqual([]);
  }, 90_000);

  it('200 ms of added latency on one node: no failed or stale read, and the slow node stays in the pool and keeps serving hits', async () => {
    const slow = (await pool()).nodes[0];
    const name = NODES.find((n) => nodeId(n) === slow.id) as string;
    const relay = relays.get(name) as NamespaceRelay;
    await relay.set({ mode: 'pass', delayMs: 200 });
    await relay.cutAll();
    try {
      const started = Date.now();
      expect((await fetch(`http://${relay.address}/health`)).status).toBe(200);
      expect(Date.now() - started).toBeGreaterThanOrEqual(200); // the fault is real

      const report = await underLoad(() => sleep(4_000));
      expect(report.errors).toEqual([]);
      expect(report.staleReads).toEqual([]);

      const view = await pool();
      expect(view.size).toBe(3);
      expect(view.nodes.map((node) => node.id)).toContain(slow.id);
      const ownedBySlow = KEYS.filter((key) => view.owners[partition(key)] === slow.id);
      expect(ownedBySlow.length).toBeGreaterThan(0);
      await Promise.all(ownedBySlow.map(cacheStatus)); // fills what the writer invalidated
      const statuses = await Promise.all(ownedBySlow.map(cacheStatus));
      expect(statuses.filter((status) => status !== '200 HIT')).toEqual([]);
    } finally {
      await relay.set({ mode: 'pass' });
      await relay.cutAll();
    }
  }, 60_000);

  it("half of one node's connections reset, then stalled: no failed or stale read, and the pool serves from three healthy nodes after", async () => {
    const view = await pool();
    const name = NODES.find((n) => nodeId(n) === view.nodes[view.nodes.length - 1].id) as string;
    const relay = relays.get(name) as NamespaceRelay;
    const report = await underLoad(async () => {
      await relay.set({ mode: 'reset', fraction: 0.5 });
      await relay.cutAll();
      const reset = await failingProbes(relay.address, 20);
      await sleep(3_000);
      await relay.set({ mode: 'stall', fraction: 0.5 });
      await relay.cutAll();
      const stalled = await failingProbes(relay.address, 20);
      await sleep(3_000);
      // the faults are real, and partial (20 draws at 0.5: all or none has odds of 2 in a million)
      for (const failed of [reset, stalled]) {
        expect(failed).toBeGreaterThan(0);
        expect(failed).toBeLessThan(20);
      }
      await relay.set({ mode: 'pass' });
      await relay.cutAll();
      await sleep(500);
    });
    expect(report.errors).toEqual([]);
    expect(report.staleReads).toEqual([]);
    expect(report.reads).toBeGreaterThan(50);

    const after = await settled(30_000, 3);
    expect(after.size).toBe(3);
    const healed = await settled(20_000);
    expect(healed.size).toBe(3);
    expect(healed.nodes.every((node) => node.health?.ok)).toBe(true);
    expect(await readAll()).toEqual([]);
  }, 90_000);
});
