import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { createConnection } from 'mysql2/promise';
import * as net from 'node:net';
import { MIGRATIONS } from '../../migrations';
import { AppProcess, startApp } from '../support/app-process';
import { makePng } from '../support/images';
import { upload } from '../support/http';
import { createTestMysqlDatabase, describeWithMysql, TestMysqlDatabase } from '../support/mysql';
import { S3TestServer, startS3rver } from '../support/s3rver';
import { spawnCacheNode, SpawnedCacheNode } from '../support/spawn-cache-node';
import { CHAOS_RESILIENCE_ENV, CHAOS_START_TIMEOUT_MS, secondsUntil } from './chaos-env';

/** The static provider requires a node secret (security.nodeSecret), as in production. */
const NODE_SECRET = 'crash-recovery-secret-padded-to-32-characters';

const WRITERS = 4;
const KEYS_PER_WRITER = 2;
const ROUNDS = 3;

type NodesMode = 'local' | 'surviving';

/** What the test knows of a key: its last acknowledged image and the one in flight at the kill. */
interface KeyTruth {
  acked: Buffer | null;
  inFlight: Buffer | null;
}

async function sqlRows<T>(url: string, sql: string): Promise<T[]> {
  const connection = await createConnection(url);
  try {
    return (await connection.query(sql))[0] as T[];
  } finally {
    await connection.end();
  }
}

function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

async function readImage(url: string, key: string) {
  const res = await fetch(`${url}/images/${encodeURIComponent(key)}`);
  return {
    status: res.status,
    cache: res.headers.get('x-cache'),
    body: Buffer.from(await res.arrayBuffer()),
  };
}

/**
 * kill -9 of the app while 4 writers overwrite their keys and 2 readers keep the caches warm;
 * then a restart, and every acknowledged upload must read back byte for byte (or the upload in
 * flight at the kill, which may have committed), never an older image, twice (the second read
 * is a cache hit). With local nodes the pool dies with the app; with surviving nodes (static
 * provider, nodes the test runs) the restarted app adopts nodes that still hold old copies, and
 * only the invalidation outbox keeps them from serving those.
 */
describeWithMysql('chaos: crashes of the app', () => {
  interface World {
    db: TestMysqlDatabase;
    s3: S3TestServer;
    nodes: SpawnedCacheNode[];
    app: AppProcess;
  }
  const worlds: World[] = [];
  const figures: string[] = [];

  async function makeWorld(mode: NodesMode): Promise<World> {
    const [db, s3] = await Promise.all([createTestMysqlDatabase(), startS3rver()]);
    const nodes =
      mode === 'surviving'
        ? await Promise.all([
            spawnCacheNode({ secret: NODE_SECRET }),
            spawnCacheNode({ secret: NODE_SECRET }),
          ])
        : [];
    const poolEnv: Record<string, string> =
      mode === 'surviving'
        ? {
            PIXPOOL_POOL_PROVIDER: 'static',
            PIXPOOL_POOL_STATIC_NODES: nodes.map((n) => `127.0.0.1:${n.port}`).join(','),
            PIXPOOL_SECURITY_NODE_SECRET: NODE_SECRET,
            PIXPOOL_POOL_INITIAL: '2',
          }
        : {};
    const app = await startApp({
      env: { ...db.env, ...s3.env, ...poolEnv, ...CHAOS_RESILIENCE_ENV },
      startTimeoutMs: CHAOS_START_TIMEOUT_MS,
    });
    const world = { db, s3, nodes, app };
    worlds.push(world);
    return world;
  }

  afterAll(async () => {
    console.log(`crash figures:\n${figures.join('\n')}`);
    for (const w of worlds) {
      await w.app.stop();
      await Promise.all([...w.nodes.map((n) => n.stop()), w.db.drop(), w.s3.stop()]);
    }
  });

  /**
   * kill -9, then wait until the app's local cache nodes (if any) noticed and left their ports,
   * as a process supervisor restarting the app would need them to.
   */
  async function killAndWait(app: AppProcess): Promise<void> {
    process.kill(app.pid(), 'SIGKILL');
    await app.stop(); // returns once the exit is seen
    const base = Number(app.env.PIXPOOL_POOL_BASE_PORT);
    await secondsUntil(async () => {
      const open = await Promise.all(Array.from({ length: 8 }, (_, i) => isListening(base + i)));
      return !open.includes(true);
    }, 15_000);
  }

  async function orphansGone(w: World): Promise<number> {
    return secondsUntil(async () => {
      const rows = await sqlRows<{ objectName: string }>(w.db.url, 'SELECT objectName FROM images');
      const named = new Set(rows.map((r) => r.objectName));
      const listed = await w.s3.client().send(new ListObjectsV2Command({ Bucket: w.s3.bucket }));
      const objects = (listed.Contents ?? []).map((o) => o.Key ?? '');
      return objects.length === named.size && objects.every((o) => named.has(o));
    }, 20_000);
  }

  async function round(w: World, truth: Map<string, KeyTruth>): Promise<{ acked: number }> {
    let stop = false;
    let acked = 0;
    const writer = async (i: number) => {
      for (let n = 0; !stop; n++) {
        const key = `w${i}-k${n % KEYS_PER_WRITER}`;
        const png = makePng(1500 + Math.floor(Math.random() * 3000));
        const t = truth.get(key) ?? { acked: null, inFlight: null };
        truth.set(key, t);
        t.inFlight = png;
        try {
          const res = await upload(w.app.url, key, png);
          if (res.status === 200) {
            t.acked = png;
            t.inFlight = null;
            acked += 1;
          }
        } catch {
          return; // the app died under this request: the upload stays "in flight"
        }
      }
    };
    const reader = async () => {
      while (!stop) {
        const key = `w${Math.floor(Math.random() * WRITERS)}-k${Math.floor(Math.random() * KEYS_PER_WRITER)}`;
        try {
          await readImage(w.app.url, key);
        } catch {
          return;
        }
      }
    };
    const load = Promise.all([
      ...Array.from({ length: WRITERS }, (_, i) => writer(i)),
      reader(),
      reader(),
    ]);
    // A random moment, counted in acknowledged uploads so a slow machine still has some, plus a
    // random fraction of one upload's time.
    const killAfter = 5 + Math.floor(Math.random() * 20);
    const deadline = Date.now() + 15_000;
    while (acked < killAfter && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, Math.random() * 50));
    await killAndWait(w.app);
    stop = true;
    await load;
    return { acked };
  }

  async function verify(w: World, truth: Map<string, KeyTruth>) {
    let lost = 0;
    let older = 0;
    for (const [key, t] of truth) {
      if (!t.acked && !t.inFlight) continue;
      for (let read = 0; read < 2; read++) {
        const got = await readImage(w.app.url, key);
        const matches = [t.acked, t.inFlight].some((png) => png && got.body.equals(png));
        if (got.status === 404 && t.acked) lost += 1;
        else if (got.status !== 404 && !matches) older += 1;
      }
    }
    return { lost, older };
  }

  it.each<NodesMode>(['local', 'surviving'])(
    'kill -9 during uploads, %s nodes, 3 rounds: nothing acknowledged lost, nothing older served',
    async (mode) => {
      const w = await makeWorld(mode);
      const truth = new Map<string, KeyTruth>();
      for (let r = 1; r <= ROUNDS; r++) {
        const { acked } = await round(w, truth);
        // A round whose kill came before any acknowledgement proves nothing about losing one.
        expect({ round: r, acknowledged: acked > 0 }).toEqual({ round: r, acknowledged: true });
        await w.app.restart();
        const { lost, older } = await verify(w, truth);
        figures.push(
          `${mode} nodes, round ${r}: ${acked} uploads acknowledged before kill -9; after restart ` +
            `${lost} lost, ${older} older than their row`,
        );
        expect({ round: r, lost, older }).toEqual({ round: r, lost: 0, older: 0 });
        // In flight at the kill: committed or not, it is settled now.
        for (const t of truth.values()) {
          if (t.inFlight) {
            const got = await readImage(
              w.app.url,
              [...truth.entries()].find(([, v]) => v === t)![0],
            );
            if (got.body.equals(t.inFlight)) t.acked = t.inFlight;
            t.inFlight = null;
          }
        }
      }
      const seconds = await orphansGone(w);
      figures.push(
        `${mode} nodes: 0 orphan objects ${seconds.toFixed(1)} s after the last restart`,
      );
    },
    240_000,
  );

  it('crash between commit and invalidation: surviving nodes never serve the older image', async () => {
    const w = worlds.find((x) => x.nodes.length > 0) ?? (await makeWorld('surviving'));
    const v1 = makePng(2500);
    const v2 = makePng(2600);
    expect((await upload(w.app.url, 'exact', v1)).status).toBe(200);
    await readImage(w.app.url, 'exact');
    expect(await readImage(w.app.url, 'exact')).toMatchObject({ status: 200, cache: 'HIT' });

    w.app.args.push('--pixpool-test-crash-point=after-commit');
    await w.app.restart();
    await expect(upload(w.app.url, 'exact', v2)).rejects.toThrow(); // died after the commit
    await w.app.stop();
    w.app.args.pop();
    await w.app.restart();

    for (let read = 0; read < 2; read++) {
      const got = await readImage(w.app.url, 'exact');
      expect({ status: got.status, isV2: got.body.equals(v2), isV1: got.body.equals(v1) }).toEqual({
        status: 200,
        isV2: true,
        isV1: false,
      });
    }
    expect(w.app.output()).toMatch(/replayed [1-9]\d* pending invalidation\(s\) at start/);
    const pending = await sqlRows<{ n: number }>(
      w.db.url,
      'SELECT COUNT(*) AS n FROM pending_invalidations',
    );
    expect(Number(pending[0].n)).toBe(0);
  }, 120_000);

  it('crash between blob write and commit: the row is unchanged and the object is swept', async () => {
    const w = worlds.find((x) => x.nodes.length > 0) ?? (await makeWorld('surviving'));
    const v1 = makePng(2500);
    expect((await upload(w.app.url, 'half', v1)).status).toBe(200);
    w.app.args.push('--pixpool-test-crash-point=after-blob-write');
    await w.app.restart();
    await expect(upload(w.app.url, 'half', makePng(2700))).rejects.toThrow();
    await w.app.stop();
    w.app.args.pop();

    const rows = await sqlRows<{ objectName: string }>(w.db.url, 'SELECT objectName FROM images');
    const listed = await w.s3.client().send(new ListObjectsV2Command({ Bucket: w.s3.bucket }));
    expect((listed.Contents ?? []).length).toBeGreaterThan(rows.length); // the orphan is there

    await w.app.restart();
    const got = await readImage(w.app.url, 'half');
    expect(got.body.equals(v1)).toBe(true);
    const seconds = await orphansGone(w);
    figures.push(
      `crash after blob write: orphan swept ${seconds.toFixed(1)} s after restart (grace 4 s)`,
    );
  }, 120_000);

  it('two instances started at once on an empty MariaDB both come up; migrations run once', async () => {
    const db = await createTestMysqlDatabase();
    try {
      const apps = await Promise.all([
        startApp({ env: db.env, startTimeoutMs: CHAOS_START_TIMEOUT_MS }),
        startApp({ env: db.env, startTimeoutMs: CHAOS_START_TIMEOUT_MS }),
      ]);
      try {
        for (const app of apps) expect((await fetch(`${app.url}/health/ready`)).status).toBe(200);
        const retried = apps.filter((a) => /saved the pool first/.test(a.output())).length;
        figures.push(
          `two instances at once: both up; ${retried} lost the first pool save and joined`,
        );
        const ran = await sqlRows<{ name: string }>(db.url, 'SELECT name FROM migrations');
        expect(ran.map((r) => r.name).sort()).toEqual(MIGRATIONS.map((m) => m.name).sort());
      } finally {
        await Promise.all(apps.map((a) => a.stop()));
      }
    } finally {
      await db.drop();
    }
  }, 120_000);
});
