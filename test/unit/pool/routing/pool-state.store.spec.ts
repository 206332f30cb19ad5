import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { DatabaseConfig } from '../../../../src/config/app-config';
import { loadConfig } from '../../../../src/config/config-loader';
import { openDataSource } from '../../../../src/database/data-source.factory';
import { PoolState } from '../../../../src/pool/routing/pool-state';
import { TypeOrmPoolStateStore } from '../../../../src/pool/routing/typeorm-pool-state.store';
import { createTestMysqlDatabase, describeWithMysql } from '../../../support/mysql';
import { poolState } from '../fakes/pool-state.fixtures';

interface TestDatabase {
  config: DatabaseConfig;
  drop(): Promise<void>;
}

/** The store's behaviour on one database kind, each test on a fresh, migrated database. */
function behavesLikeThePoolStateStore(newDatabase: () => Promise<TestDatabase>): void {
  let db: TestDatabase;
  let dataSource: DataSource;
  let sut: TypeOrmPoolStateStore;

  beforeEach(async () => {
    db = await newDatabase();
    dataSource = await openDataSource({ ...db.config, migrationsRun: true });
    sut = new TypeOrmPoolStateStore(dataSource);
  });
  afterEach(async () => {
    await dataSource.destroy();
    await db.drop();
  });

  const first = poolState(1, ['n1', 'n2']);
  const second = poolState(2, ['n1', 'n2', 'n3'], first);

  it('holds nothing before the first save', async () => {
    await expect(dataSource.showMigrations()).resolves.toBe(false); // every migration ran
    await expect(sut.load()).resolves.toBeNull();
    await expect(sut.epoch()).resolves.toBe(0);
  });

  it('creates the state once: a second first save loses', async () => {
    await expect(sut.compareAndSave(0, first)).resolves.toBe(true);
    await expect(sut.compareAndSave(0, poolState(1, ['other']))).resolves.toBe(false);
    await expect(sut.load()).resolves.toEqual(first);
  });

  it('saves the next state only over the epoch it expects', async () => {
    await sut.compareAndSave(0, first);

    await expect(sut.compareAndSave(5, second)).resolves.toBe(false);
    await expect(sut.load()).resolves.toEqual(first);

    await expect(sut.compareAndSave(1, second)).resolves.toBe(true);
    await expect(sut.compareAndSave(1, poolState(2, ['x']))).resolves.toBe(false);
    await expect(sut.load()).resolves.toEqual(second);
    await expect(sut.epoch()).resolves.toBe(2);
  });

  it('lets exactly one of two instances saving over the same epoch win', async () => {
    await sut.compareAndSave(0, first);
    const other = new TypeOrmPoolStateStore(dataSource);
    const results = await Promise.all([
      sut.compareAndSave(1, second),
      other.compareAndSave(1, poolState(2, ['x'], first)),
    ]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect((await sut.load())?.epoch).toBe(2);
  });

  it('round-trips the previous assignment, node urls and epochs beyond 32 bits', async () => {
    const big: PoolState = { ...second, epoch: 2 ** 40 };
    await sut.compareAndSave(0, first);
    await sut.compareAndSave(1, big);

    const loaded = await sut.load();

    expect(loaded).toEqual(big);
    expect(loaded?.previous).toEqual({ owners: first.owners, nodes: first.nodes });
    await expect(sut.epoch()).resolves.toBe(2 ** 40);
  });

  it('round-trips quarantined members and the target size (and their absence)', async () => {
    const withMembership: PoolState = { ...second, quarantined: ['n2'], target: 4 };
    await sut.compareAndSave(0, first);
    await sut.compareAndSave(1, withMembership);
    await expect(sut.load()).resolves.toEqual(withMembership);

    const cleared: PoolState = { ...second, epoch: 3 };
    await sut.compareAndSave(2, cleared);
    const loaded = await sut.load();
    expect(loaded).toEqual(cleared);
    expect(loaded).not.toHaveProperty('quarantined');
    expect(loaded).not.toHaveProperty('target');
  });

  it('reads a state saved without a previous assignment back with previous null', async () => {
    const bare: PoolState = { epoch: first.epoch, owners: first.owners, nodes: first.nodes };
    await sut.compareAndSave(0, bare);
    await expect(sut.load()).resolves.toEqual({ ...bare, previous: null });
  });
}

describe('TypeOrmPoolStateStore on SQLite', () => {
  behavesLikeThePoolStateStore(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixpool-pool-state-'));
    return {
      config: loadConfig({ env: { PIXPOOL_DATABASE_FILE: path.join(dir, 'state.sqlite') } })
        .database,
      drop: async () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  });
});

describeWithMysql('TypeOrmPoolStateStore on MariaDB/MySQL', () => {
  behavesLikeThePoolStateStore(async () => {
    const db = await createTestMysqlDatabase();
    return { config: db.config(), drop: () => db.drop() };
  });
});
