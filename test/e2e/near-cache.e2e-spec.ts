import { getNumNodes, readChecked, uploadChecked } from '../support/checked-io';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CacheNodeClient } from '../../src/pool/client/cache-node.client';
import { AppProcess, startApp } from '../support/app-process';
import { ConsistencyChecker } from '../support/consistency-checker';
import { postJson } from '../support/http';
import { makePng } from '../support/images';
import { startLoad } from '../support/load';
import { createTestMysqlDatabase, describeWithMysql, TestMysqlDatabase } from '../support/mysql';
import { spawnCacheNode, SpawnedCacheNode } from '../support/spawn-cache-node';

/** The static provider requires a node secret (security.nodeSecret), as in production. */
const NODE_SECRET = 'near-cache-secret-padded-to-32-characters';

const LEASE_MS = 1000;
/** Few keys, read over and over: they are hot, so most reads are near hits. */
const READ_KEYS = Array.from({ length: 12 }, (_, i) => `near-${i}`);
const WRITE_KEYS = Array.from({ length: 6 }, (_, i) => `near-w-${i}`);

async function waitFor(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function resize(app: AppProcess, size: number): Promise<void> {
  const res = await postJson(`${app.url}/api/configure_cache?mode=manual&numNodes=${size}`);
  expect(res.status).toBe(200);
}

/** Near hits reported by each front-end to the nodes (lease renewals carry its figures). */
async function nearHits(nodes: SpawnedCacheNode[]): Promise<Map<string, number>> {
  const byFrontEnd = new Map<string, number>();
  for (const node of nodes) {
    if (node.process.exitCode !== null || node.process.signalCode !== null) continue;
    const client = new CacheNodeClient({ url: node.url, secret: NODE_SECRET, timeoutMs: 2000 });
    try {
      for (const r of (await client.stats()).near?.reports ?? [])
        byFrontEnd.set(r.name, Math.max(byFrontEnd.get(r.name) ?? 0, r.hits));
    } finally {
      client.close();
    }
  }
  return byFrontEnd;
}

/**
 * Two writers, each with its own keys (the checker orders the uploads of a key by their
 * acknowledgements, which is the commit order only with one writer per key), and four readers of
 * every key.
 */
function twoWriters(url: () => string, checker: ConsistencyChecker, writeKeys: string[]) {
  const half = Math.ceil(writeKeys.length / 2);
  const parts = [writeKeys.slice(0, half), writeKeys.slice(half)];
  const loads = parts.map((mine, i) =>
    startLoad(url, checker, {
      readKeys: [...READ_KEYS.filter((k) => !writeKeys.includes(k)), ...parts[1 - i]],
      writeKeys: mine,
      readers: 2,
      writers: 1,
    }),
  );
  return {
    stop: async () => {
      const reports = await Promise.all(loads.map((l) => l.stop()));
      return {
        reads: reports[0].reads + reports[1].reads,
        errors: [...reports[0].errors, ...reports[1].errors],
        staleReads: checker.staleReads,
      };
    },
  };
}

/**
 * The near cache on, with real front-ends, MariaDB and static cache nodes: readers and writers
 * during resizes and a node killed with SIGKILL, every answer checked against the acknowledged
 * uploads (no read after an acknowledged upload returns an older image).
 */
/** URLs of the nodes in the pool as the app shows them (quarantined ones included). */
async function poolUrls(appUrl: string): Promise<string[]> {
  const view = (await (await fetch(`${appUrl}/api/manager/pool`)).json()) as {
    nodes?: Array<{ url: string }>;
  };
  return (view.nodes ?? []).map((n) => n.url);
}

/** Runs `work` while `load` runs, then stops the load (also when `work` fails) and reports. */
async function finallyStop<R>(load: { stop(): Promise<R> }, work: () => Promise<void>): Promise<R> {
  try {
    await work();
  } catch (err) {
    await load.stop();
    throw err;
  }
  return load.stop();
}

describeWithMysql('near cache (L1) in the front-ends', () => {
  let db: TestMysqlDatabase;
  let nodes: SpawnedCacheNode[];
  let env: Record<string, string>;
  const apps: AppProcess[] = [];

  beforeAll(async () => {
    db = await createTestMysqlDatabase();
    nodes = await Promise.all(
      Array.from({ length: 5 }, () => spawnCacheNode({ port: 0, secret: NODE_SECRET })),
    );
    env = {
      ...db.env,
      PIXPOOL_STORAGE_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'pixpool-near-')),
      PIXPOOL_POOL_PROVIDER: 'static',
      PIXPOOL_POOL_STATIC_NODES: nodes.map((n) => `127.0.0.1:${n.port}`).join(','),
      PIXPOOL_SECURITY_NODE_SECRET: NODE_SECRET,
      PIXPOOL_POOL_INITIAL: '2',
      PIXPOOL_POOL_HEALTH_INTERVAL_MS: '300',
      // A killed node is quarantined at once and replaced after this (the default rides out 15 s).
      PIXPOOL_MEMBERSHIP_REMOVE_AFTER_MS: '2000',
      PIXPOOL_NEAR_CACHE_CAPACITY_MB: '16',
      PIXPOOL_NEAR_CACHE_LEASE_MS: String(LEASE_MS),
      PIXPOOL_NEAR_CACHE_ADMIT_WINDOW_MS: '60000',
      PIXPOOL_NEAR_CACHE_REPORT_INTERVAL_MS: '200',
    };
    apps.push(await startApp({ env }));
  }, 60_000);
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.stop()));
    await Promise.all((nodes ?? []).map((n) => n.stop()));
    await db?.drop();
  });

  describe('one front-end', () => {
    const checker = new ConsistencyChecker();

    it('serves a hot image from its own memory, with ETag, 304 and HEAD, and never an old one', async () => {
      const [a] = apps;
      const first = makePng(3000);
      expect((await uploadChecked(checker, a.url, 'hot', first)).status).toBe(200);
      await waitFor('a near hit', async () => {
        const res = await fetch(`${a.url}/images/hot`);
        await res.arrayBuffer();
        return res.headers.get('x-near-cache') === 'HIT';
      });
      const hit = await fetch(`${a.url}/images/hot`);
      expect(hit.headers.get('x-cache')).toBe('HIT');
      expect(hit.headers.get('content-type')).toBe('image/png');
      const etag = hit.headers.get('etag')!;
      expect(Buffer.from(await hit.arrayBuffer()).equals(first)).toBe(true);
      const notModified = await fetch(`${a.url}/images/hot`, {
        headers: { 'if-none-match': etag },
      });
      expect(notModified.status).toBe(304);
      const head = await fetch(`${a.url}/images/hot`, { method: 'HEAD' });
      expect(head.headers.get('content-length')).toBe(String(first.length));

      for (let i = 0; i < 5; i++) {
        const next = makePng(3000 + i);
        expect((await uploadChecked(checker, a.url, 'hot', next)).status).toBe(200);
        const res = await readChecked(checker, a.url, 'hot');
        expect(res.body.equals(next)).toBe(true);
      }
      expect(checker.staleReads).toEqual([]);
    });

    it('reads and writes during resizes and a node kill: 0 stale reads, near hits counted as hits', async () => {
      const [a] = apps;
      for (const key of [...READ_KEYS, ...WRITE_KEYS])
        expect((await uploadChecked(checker, a.url, key, makePng(2500))).status).toBe(200);
      const hitsBefore = [...(await nearHits(nodes)).values()].reduce((x, y) => Math.max(x, y), 0);
      const load = twoWriters(() => a.url, checker, WRITE_KEYS);
      // The writers stop whatever happens: left running they would write into the next test.
      const report = await finallyStop(load, async () => {
        await sleep(1000);
        await resize(a, 4);
        await sleep(800);
        await resize(a, 1);
        await sleep(800);
        await resize(a, 3);
        await sleep(800);
        // SIGKILL one node of the pool: it is quarantined, then replaced; its regions move and
        // the front-end's near copies of them go.
        const victimUrl = (await poolUrls(a.url))[1];
        const victim = nodes.find((n) => n.url === victimUrl) ?? nodes[1];
        victim.process.kill('SIGKILL');
        await waitFor(
          'the pool to replace the dead node',
          async () =>
            !(await poolUrls(a.url)).includes(victim.url) && (await getNumNodes(a.url)) === 3,
        );
        await sleep(1000);
      });
      expect(report.staleReads).toEqual([]);
      expect(report.errors).toEqual([]);
      expect(report.reads).toBeGreaterThan(200);
      await sleep(600);
      const hitsAfter = [...(await nearHits(nodes)).values()].reduce((x, y) => Math.max(x, y), 0);
      expect(hitsAfter - hitsBefore).toBeGreaterThan(report.reads / 4);
    }, 90_000);
  });

  describe('two front-ends', () => {
    const checker = new ConsistencyChecker();

    it('writers and readers on both during resizes and a node kill: 0 stale reads', async () => {
      apps.push(await startApp({ env: { ...env, PIXPOOL_SERVER_PEERS: apps[0].url } }));
      const [a, b] = apps;
      await waitFor(
        'B to join',
        async () => (await getNumNodes(b.url)) === (await getNumNodes(a.url)),
      );
      for (const key of [...READ_KEYS, ...WRITE_KEYS])
        expect((await uploadChecked(checker, a.url, key, makePng(2600))).status).toBe(200);
      const either = () => (Math.random() < 0.5 ? a.url : b.url);
      const load = twoWriters(either, checker, [...READ_KEYS.slice(0, 4), ...WRITE_KEYS]);
      const report = await finallyStop(load, async () => {
        await sleep(1000);
        await resize(b, 3);
        await sleep(800);
        await resize(a, 1);
        await sleep(800);
        await resize(b, 2);
        await sleep(800);
        const live = nodes.filter(
          (n) => n.process.exitCode === null && n.process.signalCode === null,
        );
        const inPool = new Set(await poolUrls(a.url));
        const victim = live.find((n) => inPool.has(n.url)) ?? live[0];
        victim.process.kill('SIGKILL');
        await sleep(2500);
      });
      expect(report.staleReads).toEqual([]);
      expect(report.errors).toEqual([]);
      expect(report.reads).toBeGreaterThan(200);
      // The dashboard's view: both front-ends, each with near copies and near hits. The kill's
      // quarantine and replacement epochs may land after the load stopped and empty the near
      // caches (every epoch change does): read on, as users do, until copies show again.
      type NearView = {
        frontEnds: Array<{ name: string; items: number; hitShare: number; self: boolean }>;
      };
      let view: NearView = { frontEnds: [] };
      await waitFor('both front-ends to hold near copies again', async () => {
        for (const app of [a, b])
          for (const key of READ_KEYS)
            await (await fetch(`${app.url}/images/${key}`)).arrayBuffer();
        view = (await (await fetch(`${a.url}/api/manager/near`)).json()) as NearView;
        return view.frontEnds.length === 2 && view.frontEnds.every((f) => f.items > 0);
      });
      expect(view.frontEnds).toHaveLength(2);
      expect(view.frontEnds.filter((f) => f.self)).toHaveLength(1);
      for (const frontEnd of view.frontEnds) {
        expect(frontEnd.items).toBeGreaterThan(0);
        expect(frontEnd.hitShare).toBeGreaterThan(0.2);
      }
    }, 120_000);
  });
});
