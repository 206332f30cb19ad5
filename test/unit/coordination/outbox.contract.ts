import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { DependencyGuard } from '../../../src/common/dependency-guard';
import { AppConfig, DatabaseConfig } from '../../../src/config/app-config';
import { loadConfig } from '../../../src/config/config-loader';
import { OrphanSweeper } from '../../../src/coordination/orphan-sweeper.service';
import { OutboxService } from '../../../src/coordination/outbox.service';
import { OutboxStore } from '../../../src/coordination/outbox.store';
import { PendingInvalidationEntity } from '../../../src/coordination/pending-invalidation.entity';
import { Leadership } from '../../../src/coordination/leadership.port';
import { openDataSource } from '../../../src/database/data-source.factory';
import { ImageEntity } from '../../../src/database/image.entity';
import { TypeOrmImageTable } from '../../../src/database/image-table.repository';
import { PoolCacheService } from '../../../src/pool/pool-cache.service';
import { FsBlobStore } from '../../../src/storage/fs-blob-store';
import { newObjectName } from '../../../src/storage/object-name';

export interface TestDatabase {
  config: DatabaseConfig;
  drop(): Promise<void>;
}

/** The pool as the outbox sees it: it only ever invalidates. */
class RecordingPool {
  readonly invalidated: [string, number][] = [];
  async invalidate(key: string, version: number): Promise<void> {
    this.invalidated.push([key, version]);
  }
}

const image = (key: string, objectName = newObjectName()) => ({
  key,
  objectName,
  contentType: 'image/png',
  byteSize: 10,
  checksum: 'ab'.repeat(32),
});

/**
 * The outbox and the orphan sweep on a real database: what outbox.ts argues, checked step by step.
 */
export function behavesLikeTheOutbox(newDatabase: () => Promise<TestDatabase>): void {
  let db: TestDatabase;
  let dataSource: DataSource;
  let table: TypeOrmImageTable;
  let store: OutboxStore;
  let pool: RecordingPool;
  let config: AppConfig;
  let leader: boolean;
  const leadership: Leadership = { isLeader: () => leader, fencingToken: () => null };
  const guard = () =>
    new DependencyGuard({
      dependency: 'database',
      timeoutMs: 5000,
      retryAfterSeconds: 1,
      breakerThreshold: 3,
      breakerOpenMs: 1000,
      isOutage: () => false,
    });
  const outbox = () =>
    new OutboxService(config, store, pool as unknown as PoolCacheService, leadership);

  beforeAll(async () => {
    db = await newDatabase();
    dataSource = await openDataSource(db.config);
    table = new TypeOrmImageTable(dataSource);
    store = new OutboxStore(dataSource, guard());
    config = loadConfig({ overrides: { resilience: { outboxGraceMs: 60_000 } } });
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });
  beforeEach(async () => {
    await dataSource.getRepository(ImageEntity).clear();
    await dataSource.getRepository(PendingInvalidationEntity).clear();
    pool = new RecordingPool();
    leader = true;
  });

  it('commits a pending invalidation with every upsert, in its transaction', async () => {
    const { record, pendingInvalidationId } = await table.upsert(image('cat'));
    const pending = await store.pending();
    expect(pending).toEqual([
      {
        id: pendingInvalidationId,
        key: 'cat',
        version: record.version,
        createdAt: expect.any(Date),
      },
    ]);
    // An upsert that fails (a second key on the same object is refused) leaves no record either.
    const taken = record.objectName;
    await expect(table.upsert(image('dog', taken))).rejects.toThrow();
    expect(await table.find('dog')).toBeNull();
    expect((await store.pending()).map((p) => p.key)).toEqual(['cat']);
  });

  it('acks a record so it is never replayed', async () => {
    const { pendingInvalidationId } = await table.upsert(image('cat'));
    await outbox().ack(pendingInvalidationId);
    expect(await store.count()).toBe(0);
    expect(await outbox().replay()).toBe(0);
    expect(pool.invalidated).toEqual([]);
  });

  it('replays every record at start: the newest version per key, then acks them', async () => {
    const a1 = await table.upsert(image('a'));
    const a2 = await table.upsert(image('a'));
    const b1 = await table.upsert(image('b'));
    await outbox().onApplicationBootstrap();
    await outbox().onApplicationShutdown();
    expect(pool.invalidated.sort()).toEqual([
      ['a', a2.record.version],
      ['b', b1.record.version],
    ]);
    expect(a2.record.version).toBeGreaterThan(a1.record.version);
    expect(await store.count()).toBe(0);
  });

  it('sweeps only records older than the grace, and only on the leader', async () => {
    await table.upsert(image('young'));
    const old = await table.upsert(image('old'));
    await dataSource
      .getRepository(PendingInvalidationEntity)
      .update(
        { id: String(old.pendingInvalidationId) },
        { createdAt: new Date(Date.now() - 120_000) },
      );

    leader = false;
    expect(await outbox().sweep()).toBe(0);
    leader = true;
    expect(await outbox().sweep()).toBe(1);
    expect(pool.invalidated).toEqual([['old', old.record.version]]);
    expect((await store.pending()).map((p) => p.key)).toEqual(['young']);
  });

  it('sweeps objects no row names once past the grace, never a named or a young one', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixpool-sweep-'));
    try {
      const blobs = new FsBlobStore(dir);
      const named = newObjectName();
      const orphan = newObjectName();
      for (const name of [named, orphan]) await blobs.put(name, Buffer.from('x'), 'image/png');
      await table.upsert(image('kept', named));
      const sweeper = new OrphanSweeper(config, blobs, table, leadership);
      const grace = config.resilience.orphanGraceMs;

      expect(await sweeper.sweep(new Date(Date.now() + grace / 2))).toBe(0); // both young
      expect(await sweeper.sweep(new Date(Date.now() + grace + 1000))).toBe(1);
      const left: string[] = [];
      for await (const page of blobs.list()) left.push(...page.map((o) => o.name));
      expect(left).toEqual([named]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a grace too short to outlive an upload in flight', () => {
    const short = loadConfig({
      overrides: {
        resilience: { orphanGraceMs: 5000, storageTimeoutMs: 3000, databaseTimeoutMs: 3000 },
      },
    });
    expect(() => new OrphanSweeper(short, new FsBlobStore(os.tmpdir()), table, leadership)).toThrow(
      /orphanGraceMs \(5000\) must be at least twice/,
    );
  });
}
