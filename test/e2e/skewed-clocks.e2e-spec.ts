import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AppProcess, startApp } from '../support/app-process';
import { readChecked, uploadChecked } from '../support/checked-io';
import { ConsistencyChecker } from '../support/consistency-checker';
import { postJson } from '../support/http';
import { makePng } from '../support/images';
import { createTestMysqlDatabase, describeWithMysql, TestMysqlDatabase } from '../support/mysql';
import { spawnCacheNode, SpawnedCacheNode } from '../support/spawn-cache-node';

const KEYS = ['phoenix-0', 'phoenix-1', 'phoenix-2', 'phoenix-3'];
const NODE_SECRET = 'skewed-clocks-secret-padded-to-32-characters';
const BEHIND_MS = 60_000;

/** Loaded into B before the app: its clock runs a minute behind A's. */
function clockBehindPreload(dir: string): string {
  const file = path.join(dir, 'clock-behind.js');
  fs.writeFileSync(
    file,
    `const realNow = Date.now;\nDate.now = () => realNow.call(Date) - ${BEHIND_MS};\n`,
  );
  return file;
}

const versionOf = async (app: AppProcess, key: string): Promise<number> => {
  const etag = (await fetch(`${app.url}/images/${key}`)).headers.get('etag') ?? '';
  return Number(/^"v(\d+)"$/.exec(etag)?.[1]);
};

/**
 * Two front-ends on one database, B's clock a minute behind A's: keys uploaded through A, deleted,
 * and uploaded again through B. The new uploads win everywhere: both read them back, with a
 * version (ETag) above the one of the images deleted.
 */
describeWithMysql('two app instances whose clocks disagree', () => {
  let db: TestMysqlDatabase;
  let nodes: SpawnedCacheNode[];
  let a: AppProcess;
  let b: AppProcess;
  const checker = new ConsistencyChecker();

  beforeAll(async () => {
    db = await createTestMysqlDatabase();
    nodes = await Promise.all([0, 1].map(() => spawnCacheNode({ port: 0, secret: NODE_SECRET })));
    const shared = fs.mkdtempSync(path.join(os.tmpdir(), 'pixpool-skew-'));
    const env = {
      ...db.env,
      PIXPOOL_STORAGE_DIR: path.join(shared, 'blobs'),
      PIXPOOL_POOL_PROVIDER: 'static',
      PIXPOOL_SECURITY_NODE_SECRET: NODE_SECRET,
      PIXPOOL_POOL_STATIC_NODES: nodes.map((n) => `127.0.0.1:${n.port}`).join(','),
      PIXPOOL_POOL_INITIAL: '2',
    };
    a = await startApp({ env });
    b = await startApp({
      env: {
        ...env,
        PIXPOOL_SERVER_PEERS: a.url,
        NODE_OPTIONS: `--require ${clockBehindPreload(shared)}`,
      },
    });
  }, 60_000);
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await Promise.all((nodes ?? []).map((n) => n.stop()));
    await db?.drop();
  });

  it('keys re-created through the instance behind, after a delete_all, win on both', async () => {
    const before = new Map<string, number>();
    for (const key of KEYS) {
      expect((await uploadChecked(checker, a.url, key, makePng(800))).status).toBe(200);
      for (const app of [a, b]) expect((await readChecked(checker, app.url, key)).status).toBe(200);
      before.set(key, await versionOf(a, key));
    }
    expect((await postJson(`${a.url}/api/delete_all`)).status).toBe(200);

    for (const key of KEYS) {
      const renewed = makePng(900);
      expect((await uploadChecked(checker, b.url, key, renewed)).status).toBe(200);
      for (const app of [a, b, a]) {
        const read = await readChecked(checker, app.url, key);
        expect(read.status).toBe(200);
        expect(read.body.equals(renewed)).toBe(true);
      }
      expect(await versionOf(b, key)).toBeGreaterThan(before.get(key)!);
    }
    expect(checker.staleReads).toEqual([]);
  }, 60_000);
});
