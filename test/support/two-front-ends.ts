import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AppProcess, startApp } from './app-process';
import { createTestMysqlDatabase, TestMysqlDatabase } from './mysql';
import { spawnCacheNode, SpawnedCacheNode } from './spawn-cache-node';

/** The production shape on one machine: two app instances, one database, one bucket, one pool. */
export interface TwoFrontEnds {
  db: TestMysqlDatabase;
  nodes: SpawnedCacheNode[];
  a: AppProcess;
  /** Started second, with A as its peer (it notifies A of the epochs it saves). */
  b: AppProcess;
  /** Stops both apps and every node, and drops the database. */
  stop(): Promise<void>;
}

export interface TwoFrontEndsOptions {
  nodes: number;
  /** The node secret (at least 32 characters: the app refuses a shorter one). */
  secret: string;
  /** Extra argv of node i (e.g. its near-cache lease). */
  nodeArgs?: (i: number) => string[];
  /** Settings of both instances, over the shared ones (static pool of 2, health every 300 ms). */
  env?: Record<string, string>;
  aEnv?: Record<string, string>;
  bEnv?: Record<string, string>;
  /** Argv of both apps (e.g. a test mutant). */
  args?: string[];
}

/**
 * Two front-ends on a throw-away MariaDB database, one folder of blobs and static cache nodes of
 * their own. Whatever was started is stopped again if the start fails part way.
 */
export async function startTwoFrontEnds(options: TwoFrontEndsOptions): Promise<TwoFrontEnds> {
  const db = await createTestMysqlDatabase();
  const nodes: SpawnedCacheNode[] = [];
  const apps: AppProcess[] = [];
  const stop = async () => {
    await Promise.all(apps.map((app) => app.stop()));
    await Promise.all(nodes.map((node) => node.stop()));
    await db.drop();
  };
  try {
    nodes.push(
      ...(await Promise.all(
        Array.from({ length: options.nodes }, (_, i) =>
          spawnCacheNode({ port: 0, secret: options.secret, args: options.nodeArgs?.(i) ?? [] }),
        ),
      )),
    );
    const env = {
      ...db.env,
      PIXPOOL_STORAGE_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'pixpool-two-front-ends-')),
      PIXPOOL_POOL_PROVIDER: 'static',
      PIXPOOL_SECURITY_NODE_SECRET: options.secret,
      PIXPOOL_POOL_STATIC_NODES: nodes.map((n) => `127.0.0.1:${n.port}`).join(','),
      PIXPOOL_POOL_INITIAL: '2',
      PIXPOOL_POOL_HEALTH_INTERVAL_MS: '300',
      ...options.env,
    };
    const a = await startApp({ env: { ...env, ...options.aEnv }, args: options.args });
    apps.push(a);
    const b = await startApp({
      env: { ...env, ...options.bEnv, PIXPOOL_SERVER_PEERS: a.url },
      args: options.args,
    });
    apps.push(b);
    return { db, nodes, a, b, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
