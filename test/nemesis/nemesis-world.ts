import { NEMESIS_PRESET } from './nemesis-clients';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { partition } from '../../src/protocol/hash-ring';
import type { TestMutant } from '../../src/protocol/test-mutants';
import { AppProcess, startApp } from '../support/app-process';
import { FaultProxy, startFaultProxy } from '../support/fault-proxy';
import { createTestMysqlDatabase, TestMysqlDatabase, TEST_MYSQL_URL } from '../support/mysql';
import { createTestNetwork, TestNetwork } from '../support/netns';
import { S3TestServer, startS3rver } from '../support/s3rver';
import { spawnCacheNode, SpawnedCacheNode } from '../support/spawn-cache-node';
import { CHAOS_RESILIENCE_ENV, CHAOS_START_TIMEOUT_MS } from '../chaos/chaos-env';
import type { Focus, NemesisProfile } from './nemesis-profile';

export const NEMESIS_TOKEN = 'nemesis-admin-token-padded-to-32-characters';
const SECRET = 'nemesis-node-secret-padded-to-32-characters';
const APP_PORT = 5000;
const NODE_PORT = 5001;
export const APP_NAMES = ['a1', 'a2'] as const;
export const NODE_NAMES = ['n1', 'n2', 'n3', 'n4'] as const;
/** Nodes in the pool at the start; the fourth is the spare a resize up takes. */
const INITIAL_NODES = 3;
/**
 * The lease the nodes grant (the default): what an upload waits for a front-end it cannot reach,
 * and so how long a partitioned front-end may go on serving near copies without being told.
 */
export const NEAR_LEASE_MS = 3000;
/** Starts of a front-end a fault made exit at start, and the pause between them (systemd's). */
const APP_START_ATTEMPTS = 5;
const APP_RESTART_DELAY_MS = 2000;

interface PoolOwners {
  nodes: Array<{ url: string; regions: number[] }>;
}

export interface NemesisNode {
  name: string;
  /** The running process, or null while it is killed. */
  process: SpawnedCacheNode | null;
  paused: boolean;
}

/**
 * What the nemesis runs against: two front-ends (near cache on) on hosts of their own (network
 * namespaces), sharing MariaDB and an S3-protocol server, each reached through a fault proxy on
 * the test bridge, and four cache nodes on hosts of their own (three in the pool, one spare) on a
 * fixed port, so a killed node restarts on its address.
 */
export class NemesisWorld {
  readonly apps: AppProcess[] = [];
  readonly nodes: NemesisNode[] = [];
  /** Keys whose owners the faults aim at (nemesis-faults.ts): the run's cold keys. */
  aimAt: readonly string[] = [];
  /** The keys written most (the run's hot keys): a node that owns one is seldom left alone. */
  hotKeys: readonly string[] = [];
  /** The key the clients are turned to for a while, under the aimed-clients profile. */
  focus: Focus | null = null;
  private blobsDir = '';
  /** Region → node, as a front-end last answered it (watchOwners). */
  private owners = new Map<number, NemesisNode>();
  private stopWatching: () => Promise<void> = () => Promise.resolve();

  private constructor(
    readonly net: TestNetwork,
    readonly db: TestMysqlDatabase,
    readonly s3: S3TestServer,
    readonly dbRelay: FaultProxy,
    readonly s3Relay: FaultProxy,
    private readonly mutant: TestMutant | undefined,
    readonly profile: NemesisProfile,
  ) {}

  static async start(profile: NemesisProfile, mutant?: TestMutant): Promise<NemesisWorld> {
    const net = createTestNetwork([...APP_NAMES, ...NODE_NAMES]);
    const [db, s3] = await Promise.all([createTestMysqlDatabase(), startS3rver()]);
    const server = new URL(TEST_MYSQL_URL);
    const dbRelay = await startFaultProxy({
      host: net.gateway,
      target: { host: server.hostname, port: Number(server.port) || 3306 },
    });
    const s3Url = new URL(s3.endpoint);
    const s3Relay = await startFaultProxy({
      host: net.gateway,
      target: { host: s3Url.hostname, port: Number(s3Url.port) },
    });
    const world = new NemesisWorld(net, db, s3, dbRelay, s3Relay, mutant, profile);
    for (const name of NODE_NAMES) world.nodes.push({ name, process: null, paused: false });
    await Promise.all(world.nodes.map((node) => world.startNode(node)));
    for (const name of APP_NAMES) world.apps.push(await world.startApp(name));
    return world;
  }

  /**
   * Keeps the region owners fresh, as a front-end reports them, until the returned stop is called:
   * a fault aimed at a key's owner names the node that owns it now, or one that did a moment ago.
   */
  watchOwners(): () => Promise<void> {
    let watching = true;
    const poll = async () => {
      while (watching) {
        for (const app of this.apps) {
          const view = await this.admin(app, '/api/manager/pool')
            .then((res) => (res.ok ? (res.json() as Promise<PoolOwners>) : null))
            .catch(() => null);
          if (!view) continue;
          const owners = new Map<number, NemesisNode>();
          for (const viewed of view.nodes) {
            const node = this.nodes.find((n) =>
              viewed.url.includes(`//${this.net.host(n.name).address}:`),
            );
            if (node) for (const region of viewed.regions) owners.set(region, node);
          }
          this.owners = owners;
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    };
    const polling = poll();
    this.stopWatching = () => {
      watching = false;
      return polling;
    };
    return this.stopWatching;
  }

  /** The node that owns `key`'s region, as last seen; undefined before the first answer. */
  ownerOf(key: string): NemesisNode | undefined {
    return this.owners.get(partition(key));
  }

  /**
   * Reads `key` through `app` until its near cache answers it (or a few tries), unrecorded: the
   * near copy that an aimed fault may then leave stale.
   */
  async warm(app: AppProcess, key: string): Promise<void> {
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${app.url}/images/${encodeURIComponent(key)}`, {
        signal: AbortSignal.timeout(5_000),
      }).catch(() => null);
      await res?.arrayBuffer().catch(() => undefined);
      if (res?.headers.get('x-near-cache') === 'HIT') return;
    }
  }

  appName(app: AppProcess): string {
    return APP_NAMES[this.apps.indexOf(app)];
  }

  async startNode(node: NemesisNode): Promise<void> {
    node.process = await spawnCacheNode({
      prefix: this.net.host(node.name).exec,
      host: '0.0.0.0',
      port: NODE_PORT,
      secret: SECRET,
      capacityMb: 16,
      startTimeoutMs: 30_000,
      args: ['--near-lease-ms', String(NEAR_LEASE_MS), ...this.mutantArgs()],
    });
    node.paused = false;
  }

  /** kill -9; resolves once the process is gone. */
  async killNode(node: NemesisNode): Promise<void> {
    const child = node.process;
    if (!child) return;
    node.process = null;
    const exited = new Promise((resolve) => child.process.once('exit', resolve));
    if (child.process.exitCode === null && child.process.signalCode === null) {
      child.process.kill('SIGKILL');
      await exited;
    }
    await child.stop(); // tidies the IPC channel
    node.paused = false;
  }

  signalNode(node: NemesisNode, signal: 'SIGSTOP' | 'SIGCONT'): void {
    if (!node.process) return;
    node.process.process.kill(signal);
    node.paused = signal === 'SIGSTOP';
  }

  async killApp(app: AppProcess): Promise<void> {
    try {
      process.kill(app.pid(), 'SIGKILL');
    } catch {
      // already gone
    }
    await app.stop(); // resolves once the exit is seen
  }

  /**
   * As systemd restarts the app (deploy/: Restart=on-failure, RestartSec=2): a front-end that exits
   * at start because a fault still cuts it off from the database is started again, a few times.
   */
  async restartApp(app: AppProcess): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await app.restart();
      } catch (err) {
        if (attempt >= APP_START_ATTEMPTS) throw err;
        await new Promise((resolve) => setTimeout(resolve, APP_RESTART_DELAY_MS));
      }
    }
  }

  /** An admin call to a front-end's manager API. */
  admin(app: AppProcess, route: string, init: RequestInit = {}): Promise<Response> {
    return fetch(`${app.url}${route}`, {
      ...init,
      headers: {
        authorization: `Bearer ${NEMESIS_TOKEN}`,
        'content-type': 'application/json',
        ...(init.headers as Record<string, string> | undefined),
      },
      signal: AbortSignal.timeout(10_000),
    });
  }

  async stop(): Promise<void> {
    await this.stopWatching();
    await Promise.all(this.apps.map((app) => app.stop()));
    for (const node of this.nodes) {
      if (node.paused) this.signalNode(node, 'SIGCONT');
      await node.process?.stop();
    }
    await Promise.all([this.dbRelay.close(), this.s3Relay.close()]);
    this.net.destroy();
    await Promise.all([this.db.drop(), this.s3.stop()]);
    if (this.blobsDir) fs.rmSync(this.blobsDir, { recursive: true, force: true });
  }

  private mutantArgs(): string[] {
    return this.mutant ? [`--pixpool-test-mutant=${this.mutant}`] : [];
  }

  private async startApp(self: string): Promise<AppProcess> {
    const peer = APP_NAMES.find((name) => name !== self)!;
    const appUrl = (name: string) => `http://${this.net.host(name).address}:${APP_PORT}`;
    const dbUrl = new URL(this.db.url);
    dbUrl.hostname = this.dbRelay.host;
    dbUrl.port = String(this.dbRelay.port);
    this.blobsDir ||= fs.mkdtempSync(path.join(os.tmpdir(), 'pixpool-nemesis-'));
    return startApp({
      prefix: this.net.host(self).exec,
      args: this.mutantArgs(),
      dir: fs.mkdtempSync(path.join(this.blobsDir, `${self}-`)),
      startTimeoutMs: CHAOS_START_TIMEOUT_MS,
      env: {
        ...this.s3.env,
        ...CHAOS_RESILIENCE_ENV,
        PIXPOOL_STORAGE_ENDPOINT: `http://${this.s3Relay.address}`,
        PIXPOOL_SERVER_HOST: this.net.host(self).address,
        PIXPOOL_SERVER_PORT: String(APP_PORT),
        PIXPOOL_SERVER_PEERS: appUrl(peer),
        PIXPOOL_DATABASE_DRIVER: 'mysql',
        PIXPOOL_DATABASE_URL: dbUrl.toString(),
        PIXPOOL_SECURITY_ADMIN_TOKEN: NEMESIS_TOKEN,
        PIXPOOL_SECURITY_NODE_SECRET: SECRET,
        PIXPOOL_SECURITY_OPEN_COURSE_ENDPOINTS: 'true',
        PIXPOOL_POOL_PROVIDER: 'static',
        PIXPOOL_POOL_STATIC_NODES: NODE_NAMES.map(
          (n) => `${this.net.host(n).address}:${NODE_PORT}`,
        ).join(),
        PIXPOOL_POOL_INITIAL: String(INITIAL_NODES),
        PIXPOOL_POOL_MIN: '1',
        PIXPOOL_POOL_HEALTH_INTERVAL_MS: String(this.profile.healthIntervalMs),
        PIXPOOL_NEAR_CACHE_CAPACITY_MB: '8',
        // Lossless, so a variant's pixels name the upload it shows (nemesis-clients.ts).
        PIXPOOL_IMAGING_PRESETS: `${NEMESIS_PRESET}:w=8&fmt=png`,
        PIXPOOL_NEAR_CACHE_LEASE_MS: String(NEAR_LEASE_MS),
        PIXPOOL_COORDINATION_LEASE_MS: '3000',
        PIXPOOL_COORDINATION_RENEW_MS: '1000',
      },
    });
  }
}
