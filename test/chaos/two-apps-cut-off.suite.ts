import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AppProcess, startApp } from '../support/app-process';
import { readChecked, uploadChecked } from '../support/checked-io';
import { ConsistencyChecker } from '../support/consistency-checker';
import { FaultProxy, startFaultProxy } from '../support/fault-proxy';
import { makePng } from '../support/images';
import { startLoad } from '../support/load';
import { createTestMysqlDatabase, TestMysqlDatabase, TEST_MYSQL_URL } from '../support/mysql';
import { createTestNetwork, describeWithNetns, TestNetwork } from '../support/netns';
import { spawnCacheNode, SpawnedCacheNode } from '../support/spawn-cache-node';

/*
 * Two app instances on two hosts (network namespaces) sharing MariaDB (reached through a relay on
 * the test bridge), one blob folder and three cache nodes on hosts of their own. One app instance
 * loses its route to one node while the other still reaches it: the partial partition one app
 * instance's network blip makes. Every read through either instance succeeds, none is stale while
 * both write, and both agree on the pool again afterwards. Run with the near cache off and on
 * (netns-two-apps*.e2e-spec.ts): with it on, the instance that still reaches the node must stop
 * serving near copies of the node's regions once the other one quarantined it, for the node never
 * got (so never pushed) the invalidations the cut-off instance could not deliver.
 */

const SECRET = 'netns-node-secret-padded-to-32-characters';
const TOKEN = 'netns-admin-token-padded-to-32-characters';
const KEYS = Array.from({ length: 32 }, (_, i) => `k-${i}`);
const HOT = Array.from({ length: 6 }, (_, i) => `hot-${i}`);
/** Read often through a1 before the cut (near copies there), uploaded through a2 during it. */
const PROBES = Array.from({ length: 48 }, (_, i) => `probe-${i}`);
const NODES = ['n1', 'n2', 'n3'];
const APP_PORT = 5000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface PoolView {
  size: number;
  epoch: number;
  nodes: Array<{ id: string; health: { ok: boolean } | null }>;
  resize: { running: boolean };
}

/**
 * `mixed`: instances and nodes that do not agree on near-cache settings (leases are the nodes'
 * grants): a2, the instance cut off, runs with `a2NearCacheMb`, and node i grants
 * `nodeLeaseMs[i]`.
 */
export function describeTwoAppsCutOff(
  nearCacheMb: number,
  mixed?: { a2NearCacheMb: number; nodeLeaseMs: number[] },
): void {
  const setting = (mb: number) => (mb ? `${mb} MiB` : 'off');
  const label = mixed
    ? `near cache ${setting(nearCacheMb)} in a1, ${setting(mixed.a2NearCacheMb)} in a2, node leases ${mixed.nodeLeaseMs.join('/')} ms`
    : `near cache ${setting(nearCacheMb)}`;
  describeWithNetns(
    `two app instances on their own hosts, one of them cut off from one node (${label})`,
    () => {
      let net: TestNetwork;
      let db: TestMysqlDatabase;
      let dbRelay: FaultProxy;
      let blobs: string;
      const apps: AppProcess[] = [];
      const nodes: SpawnedCacheNode[] = [];
      const checker = new ConsistencyChecker();

      const pool = async (app: AppProcess): Promise<PoolView> => {
        const res = await fetch(`${app.url}/api/manager/pool`, {
          headers: { authorization: `Bearer ${TOKEN}` },
        });
        return (await res.json()) as PoolView;
      };
      const readAll = async (app: AppProcess, keys: string[]): Promise<string[]> => {
        const failed: string[] = [];
        for (const key of keys) {
          const res = await readChecked(checker, app.url, key);
          if (res.status !== 200) failed.push(`${key}: ${res.status}`);
        }
        return failed;
      };

      beforeAll(async () => {
        net = createTestNetwork(['a1', 'a2', ...NODES]);
        db = await createTestMysqlDatabase();
        const server = new URL(TEST_MYSQL_URL);
        dbRelay = await startFaultProxy({
          host: net.gateway,
          target: { host: server.hostname, port: Number(server.port) || 3306 },
        });
        const dbUrl = new URL(db.url);
        dbUrl.hostname = dbRelay.host;
        dbUrl.port = String(dbRelay.port);
        blobs = fs.mkdtempSync(path.join(os.tmpdir(), 'pixpool-netns-blobs-'));
        for (const [i, name] of NODES.entries()) {
          const lease = mixed?.nodeLeaseMs[i];
          nodes.push(
            await spawnCacheNode({
              prefix: net.host(name).exec,
              host: '0.0.0.0',
              port: 5001,
              secret: SECRET,
              capacityMb: 16,
              startTimeoutMs: 20_000,
              args: lease ? ['--near-lease-ms', String(lease)] : [],
            }),
          );
        }
        const appUrl = (name: string) => `http://${net.host(name).address}:${APP_PORT}`;
        const env = (self: string, peer: string, nearMb = nearCacheMb) => ({
          PIXPOOL_SERVER_HOST: net.host(self).address,
          PIXPOOL_SERVER_PORT: String(APP_PORT),
          PIXPOOL_SERVER_PEERS: appUrl(peer),
          PIXPOOL_DATABASE_DRIVER: 'mysql',
          PIXPOOL_DATABASE_URL: dbUrl.toString(),
          PIXPOOL_STORAGE_DIR: blobs,
          PIXPOOL_SECURITY_ADMIN_TOKEN: TOKEN,
          PIXPOOL_SECURITY_NODE_SECRET: SECRET,
          PIXPOOL_SECURITY_OPEN_COURSE_ENDPOINTS: 'true',
          PIXPOOL_POOL_PROVIDER: 'static',
          PIXPOOL_POOL_STATIC_NODES: NODES.map((n) => `${net.host(n).address}:5001`).join(),
          PIXPOOL_POOL_INITIAL: '3',
          PIXPOOL_POOL_HEALTH_INTERVAL_MS: '500',
          PIXPOOL_NEAR_CACHE_CAPACITY_MB: String(nearMb),
        });
        apps.push(await startApp({ prefix: net.host('a1').exec, env: env('a1', 'a2') }));
        const a2Env = env('a2', 'a1', mixed?.a2NearCacheMb);
        apps.push(await startApp({ prefix: net.host('a2').exec, env: a2Env }));
        for (const key of [...KEYS, ...HOT, ...PROBES]) {
          expect((await uploadChecked(checker, apps[0].url, key, makePng(2500))).status).toBe(200);
        }
        for (const app of apps)
          expect(await readAll(app, [...KEYS, ...HOT, ...PROBES])).toEqual([]);
      }, 90_000);

      afterAll(async () => {
        await Promise.all(apps.map((app) => app.stop()));
        await Promise.all(nodes.map((node) => node.stop()));
        await dbRelay?.close();
        net?.destroy();
        await db?.drop();
        if (blobs) fs.rmSync(blobs, { recursive: true, force: true });
      }, 30_000);

      it('both instances serve one pool of three nodes on other hosts', async () => {
        const [a, b] = await Promise.all(apps.map(pool));
        expect(a.size).toBe(3);
        expect(b.epoch).toBe(a.epoch);
        expect(apps[1].output()).toMatch(/joined the pool at epoch \d+ \(3 nodes\)/);
      });

      // Both instances write the same hot keys, so uploads overlap; the one an instance acknowledges
      // late (it first quarantines n2 and waits for its peer) may still have committed first. The
      // checker allows for that and judges such reads by the versions reads return.
      it('one instance cut off from one node: no failed or stale read through either, and both agree on the pool after', async () => {
        const loads = apps.map((app) =>
          startLoad(() => app.url, checker, {
            readKeys: KEYS,
            writeKeys: HOT,
            readers: 3,
            writers: 1,
          }),
        );
        for (let i = 0; i < 3; i++) expect(await readAll(apps[0], PROBES)).toEqual([]);
        await sleep(300);
        const n2 = `static-${net.host('n2').address}:5001`;
        const noticed: string[] = [];
        const probeFailures: string[] = [];
        let probed = false;
        net.block('a2', 'n2');
        try {
          for (let i = 0; i < 16; i++) {
            const seen = (await pool(apps[1])).nodes.find((node) => node.id === n2);
            if (!seen || seen.health?.ok === false) noticed.push(seen ? 'unhealthy' : 'removed');
            if (noticed.length > 0 && !probed) {
              probed = true;
              // Once a2 has lost n2: new images through a2 (which cannot tell n2), each read back
              // through a1 (which still reaches n2) right after its acknowledgement.
              for (const key of PROBES) {
                const res = await uploadChecked(checker, apps[1].url, key, makePng(2500));
                if (res.status !== 200) probeFailures.push(`upload ${key}: ${res.status}`);
                const read = await readChecked(checker, apps[0].url, key);
                if (read.status !== 200) probeFailures.push(`read ${key}: ${read.status}`);
              }
            }
            await sleep(250);
          }
        } finally {
          net.unblock('a2', 'n2');
        }
        expect(noticed.length).toBeGreaterThan(0); // the partition is real: a2 lost n2
        expect(probed).toBe(true);
        expect(probeFailures).toEqual([]);
        await sleep(1_000);
        const reports = await Promise.all(loads.map((load) => load.stop()));
        // With the near cache on, the variant is only a test of it if the near cache answered.
        const nearHits = reports.reduce((sum, report) => sum + report.nearHits, 0);
        if (nearCacheMb > 0) expect(nearHits).toBeGreaterThan(0);
        else expect(nearHits).toBe(0);
        for (const report of reports) {
          expect(report.errors).toEqual([]);
          expect(report.staleReads).toEqual([]);
          expect(report.reads).toBeGreaterThan(30);
          expect(report.writes).toBeGreaterThan(3);
        }

        // The node rejoins once both reach it again (or is replaced if it stayed out past
        // membership.removeAfterMs); should the pool still be short, an operator would size it again.
        const deadline = Date.now() + 30_000;
        let view = await pool(apps[0]);
        while (
          Date.now() < deadline &&
          (view.resize.running || view.nodes.some((n) => !n.health?.ok))
        ) {
          await sleep(250);
          view = await pool(apps[0]);
        }
        if (view.size < 3) {
          const res = await fetch(`${apps[0].url}/api/manager/pool/size`, {
            method: 'PUT',
            headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
            body: JSON.stringify({ size: 3 }),
          });
          expect([200, 202]).toContain(res.status);
        }
        for (;;) {
          const [a, b] = await Promise.all(apps.map(pool));
          const agreed = a.size === 3 && !a.resize.running && b.epoch === a.epoch;
          if (agreed) break;
          if (Date.now() > deadline) throw new Error(`no agreement: ${JSON.stringify([a, b])}`);
          await sleep(250);
        }
        for (const app of apps)
          expect(await readAll(app, [...KEYS, ...HOT, ...PROBES])).toEqual([]);
        expect(checker.staleReads).toEqual([]);
        // About 50 s here on a quiet machine: while a1 still reaches n2 and a2 cannot, n2 may be
        // quarantined and rejoin more than once, and a probe upload then waits out one or two of
        // the longest lease the nodes grant (4 s in the mixed variant). Twice that under CI load.
      }, 150_000);
    },
  );
}
