import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { AppProcess, startApp } from '../support/app-process';
import { createTestMysqlDatabase, describeWithMysql, TestMysqlDatabase } from '../support/mysql';
import { spawnCacheNode, SpawnedCacheNode } from '../support/spawn-cache-node';

/** The static provider requires a node secret (security.nodeSecret), as in production. */
const NODE_SECRET = 'leader-lease-secret-padded-to-32-characters';

const LEASE_MS = 2000;
const RENEW_MS = 500;
const POLL_MS = 500;

interface PutMetricData {
  at: number;
  MetricData: { MetricName: string; Dimensions?: { Name: string }[] }[];
}

/**
 * A stand-in CloudWatch endpoint (AWS JSON 1.0, as the SDK speaks it): records every
 * PutMetricData and answers like CloudWatch does, so both instances publish through the real SDK.
 */
async function fakeCloudWatch() {
  const puts: PutMetricData[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      if (target.endsWith('.PutMetricData')) {
        puts.push({ at: Date.now(), ...JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      }
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, puts, close: () => server.close() };
}

async function isLeader(app: AppProcess): Promise<boolean> {
  const text = await (await fetch(`${app.url}/metrics`)).text();
  return /^pixpool_leader 1$/m.test(text);
}

async function waitFor(what: string, check: () => Promise<boolean>, ms: number): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return Date.now() - started;
}

/** Pool totals carry no NodeId dimension (cloudwatch-metric-data.ts). */
const hasPoolTotals = (put: PutMetricData) =>
  put.MetricData.some((m) => !(m.Dimensions ?? []).some((d) => d.Name === 'NodeId'));

/**
 * Two app instances on one MariaDB: one leader for the singleton jobs; kill -9 of the leader and
 * the other takes over within the lease; CloudWatch gets the pool totals once per poll, not twice.
 */
describeWithMysql('leader lease between two app instances', () => {
  let db: TestMysqlDatabase;
  let nodes: SpawnedCacheNode[];
  let cloudWatch: Awaited<ReturnType<typeof fakeCloudWatch>>;
  let apps: AppProcess[];

  beforeAll(async () => {
    db = await createTestMysqlDatabase();
    cloudWatch = await fakeCloudWatch();
    nodes = await Promise.all([0, 1].map(() => spawnCacheNode({ port: 0, secret: NODE_SECRET })));
    const env = {
      ...db.env,
      PIXPOOL_STORAGE_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'pixpool-lease-')),
      PIXPOOL_POOL_PROVIDER: 'static',
      PIXPOOL_POOL_STATIC_NODES: nodes.map((n) => `127.0.0.1:${n.port}`).join(','),
      PIXPOOL_SECURITY_NODE_SECRET: NODE_SECRET,
      PIXPOOL_POOL_INITIAL: '2',
      PIXPOOL_COORDINATION_LEASE_MS: String(LEASE_MS),
      PIXPOOL_COORDINATION_RENEW_MS: String(RENEW_MS),
      PIXPOOL_METRICS_POLL_INTERVAL_MS: String(POLL_MS),
      PIXPOOL_METRICS_DRIVER: 'cloudwatch',
      AWS_ENDPOINT_URL_CLOUDWATCH: cloudWatch.url,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_REGION: 'us-east-1',
    };
    const first = await startApp({ env });
    const second = await startApp({ env: { ...env, PIXPOOL_SERVER_PEERS: first.url } });
    apps = [first, second];
  }, 60_000);
  afterAll(async () => {
    await Promise.all((apps ?? []).map((app) => app.stop()));
    await Promise.all((nodes ?? []).map((n) => n.stop()));
    cloudWatch?.close();
    await db?.drop();
  });

  it('exactly one instance leads, and only it publishes the pool totals, once per poll', async () => {
    await waitFor(
      'a leader',
      async () => (await Promise.all(apps.map(isLeader))).some(Boolean),
      10_000,
    );
    const from = Date.now();
    let samples = 0;
    while (Date.now() - from < 4000) {
      const leading = await Promise.all(apps.map(isLeader));
      expect(leading.filter(Boolean)).toHaveLength(1);
      samples++;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const seconds = (Date.now() - from) / 1000;
    const puts = cloudWatch.puts.filter((put) => put.at >= from);
    expect(samples).toBeGreaterThan(10);
    // One publisher polling every 0.5 s: about 2 a second (two would make about 4).
    expect(puts.length).toBeGreaterThanOrEqual(Math.floor(seconds * 2) - 2);
    expect(puts.length).toBeLessThanOrEqual(Math.ceil(seconds * 2) + 1);
    expect(puts.every(hasPoolTotals)).toBe(true);
  });

  it('kill -9 of the leader: the other takes over within the lease, and publishing goes on', async () => {
    const leading = await Promise.all(apps.map(isLeader));
    const leader = apps[leading.indexOf(true)];
    const other = apps[leading.indexOf(false)];

    process.kill(leader.pid(), 'SIGKILL');
    const killedAt = Date.now();
    const took = await waitFor('the other to lead', () => isLeader(other), 3 * LEASE_MS);

    // The lease, plus one renewal round of the watcher, plus scrape and scheduling slack.
    expect(took).toBeLessThanOrEqual(LEASE_MS + RENEW_MS + 500);
    expect(other.output()).toMatch(/leading the singleton jobs \(lease epoch 2\)/);
    const before = cloudWatch.puts.length;
    await new Promise((resolve) => setTimeout(resolve, 4 * POLL_MS));
    expect(cloudWatch.puts.length).toBeGreaterThan(before);
    expect(cloudWatch.puts.filter((p) => p.at > killedAt).every(hasPoolTotals)).toBe(true);
  });
});
