import { Logger } from '@nestjs/common';
import * as fs from 'node:fs';
import { createServer, type Server } from 'node:net';
import {
  CacheNodeClient,
  CacheNodeUnavailableError,
} from '../../../../src/pool/client/cache-node.client';
import { NodeEndpoint } from '../../../../src/pool/providers/node-provider.port';
import {
  LocalNodeOptions,
  LocalNodeProvider,
} from '../../../../src/pool/providers/local-node.provider';
import { jestWorker, testPortOffset } from '../../../support/ports';
import { cacheNodeMain } from '../../../support/spawn-cache-node';

/** This worker's own port range (30000 + offset + worker * 100), a slice per test. */
const WORKER_BASE = 30000 + testPortOffset() + jestWorker() * 100;
const SECRET = 'local-provider-secret-padded-to-32-characters';

function provider(slice: number, overrides: Partial<LocalNodeOptions> = {}): LocalNodeProvider {
  return new LocalNodeProvider({
    basePort: WORKER_BASE + slice * 10,
    maxNodes: 3,
    capacityMb: 3,
    policy: 'sieve',
    secret: SECRET,
    startTimeoutMs: 10_000,
    // A node compiled from the current sources, not whatever dist/ holds.
    entry: cacheNodeMain(),
    ...overrides,
  });
}

async function health(node: NodeEndpoint) {
  const client = new CacheNodeClient({ url: node.url, secret: SECRET, timeoutMs: 1000 });
  try {
    return await client.health();
  } finally {
    client.close();
  }
}

/** list() in port order (it reports nodes in the order they became ready). */
async function listed(sut: LocalNodeProvider): Promise<NodeEndpoint[]> {
  return (await sut.list()).sort((a, b) => a.id.localeCompare(b.id));
}

/** The environments of this process's running children, from /proc (Linux). */
function childEnvironments(): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  for (const pid of fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent !== process.pid) continue;
      const pairs = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
      out.push(
        Object.fromEntries(
          pairs.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]),
        ),
      );
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return out;
}

async function occupy(port: number): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return server;
}

describe('LocalNodeProvider with real node processes', () => {
  let sut: LocalNodeProvider;

  beforeAll(() => Logger.overrideLogger(false));
  afterEach(() => sut.stopAll());

  it('starts healthy nodes on consecutive ports with the configured cache settings', async () => {
    sut = provider(0);
    const base = WORKER_BASE;

    const nodes = await sut.start(2);

    expect(nodes).toEqual([
      { id: `local-${base}`, url: `http://127.0.0.1:${base}` },
      { id: `local-${base + 1}`, url: `http://127.0.0.1:${base + 1}` },
    ]);
    for (const node of nodes) await expect(health(node)).resolves.toMatchObject({ status: 'ok' });
    const client = new CacheNodeClient({ url: nodes[0].url, secret: SECRET });
    await expect(client.getConfig()).resolves.toEqual({
      capacityBytes: 3 * 1024 * 1024,
      policy: 'sieve',
    });
    client.close();
    await expect(listed(sut)).resolves.toEqual(nodes);
  });

  it("gives its nodes the node secret but none of the app's other environment", async () => {
    const planted = {
      PIXPOOL_DATABASE_PASSWORD: 'db-password-the-node-must-not-see',
      AWS_SECRET_ACCESS_KEY: 'aws-key-the-node-must-not-see',
      PIXPOOL_SECURITY_ADMIN_TOKEN: 'admin-token-the-node-must-not-see',
    };
    Object.assign(process.env, planted);
    try {
      sut = provider(3);
      await sut.start(1);
    } finally {
      for (const name of Object.keys(planted)) delete process.env[name];
    }
    const environments = childEnvironments();
    expect(environments.length).toBeGreaterThan(0);
    for (const env of environments) {
      expect(env.PIXPOOL_NODE_SECRET).toBe(SECRET);
      for (const name of Object.keys(planted)) expect(env[name]).toBeUndefined();
    }
  });

  it('stops a node, frees its port for the next start, and refuses more than maxNodes', async () => {
    sut = provider(1);
    const [first, second, third] = await sut.start(3);
    await expect(sut.capacity()).resolves.toBe(3);
    await expect(sut.start(1)).rejects.toThrow('local provider runs at most 3 nodes');

    await sut.stop([second.id]);

    await expect(health(second)).rejects.toBeInstanceOf(CacheNodeUnavailableError);
    await expect(listed(sut)).resolves.toEqual([first, third]);
    const [again] = await sut.start(1);
    expect(again).toEqual(second);
    await expect(health(again)).resolves.toMatchObject({ status: 'ok' });
  });

  it('names the port of a node that cannot start and stops the ones it did start', async () => {
    sut = provider(2);
    const base = WORKER_BASE + 20;
    const blocker = await occupy(base + 1);
    try {
      const attempt = sut.start(2);

      await expect(attempt).rejects.toThrow(new RegExp(`port ${base + 1}`));
      await expect(sut.list()).resolves.toEqual([]);
      await expect(
        health({ id: `local-${base}`, url: `http://127.0.0.1:${base}` }),
      ).rejects.toBeInstanceOf(CacheNodeUnavailableError);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('stops every node it runs at once', async () => {
    sut = provider(3);
    const nodes = await sut.start(2);

    await sut.stopAll();

    await expect(sut.list()).resolves.toEqual([]);
    for (const node of nodes)
      await expect(health(node)).rejects.toBeInstanceOf(CacheNodeUnavailableError);
  });
});
