import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { DatabaseConfig } from '../../../../src/config/app-config';
import { loadConfig } from '../../../../src/config/config-loader';
import { openDataSource } from '../../../../src/database/data-source.factory';
import { TypeOrmInstanceClaims } from '../../../../src/pool/providers/ec2-instance-claims';
import { createTestMysqlDatabase, describeWithMysql } from '../../../support/mysql';

interface TestDatabase {
  config: DatabaseConfig;
  drop(): Promise<void>;
}

const T0 = new Date('2024-05-01T12:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const TTL = 60_000;

/** The claims' behaviour on one database kind, each test on a fresh, migrated database. */
function behavesLikeInstanceClaims(newDatabase: () => Promise<TestDatabase>): void {
  let db: TestDatabase;
  let dataSource: DataSource;
  let sut: TypeOrmInstanceClaims;

  beforeEach(async () => {
    db = await newDatabase();
    dataSource = await openDataSource({ ...db.config, migrationsRun: true });
    sut = new TypeOrmInstanceClaims(dataSource);
  });
  afterEach(async () => {
    await dataSource.destroy();
    await db.drop();
  });

  it('gives a free instance to the first claimant only, until its claim runs out', async () => {
    await expect(sut.claim('i-1', 'app-a', T0, TTL)).resolves.toBe(true);
    await expect(sut.claim('i-1', 'app-b', at(1), TTL)).resolves.toBe(false);
    await expect(sut.claim('i-1', 'app-b', at(TTL), TTL)).resolves.toBe(false);
    await expect(sut.live(at(TTL))).resolves.toEqual(new Map([['i-1', 'app-a']]));
    // a crashed holder's claim runs out; then anyone may take the instance
    await expect(sut.claim('i-1', 'app-b', at(TTL + 1), TTL)).resolves.toBe(true);
    await expect(sut.live(at(TTL + 1))).resolves.toEqual(new Map([['i-1', 'app-b']]));
    await expect(sut.live(at(2 * TTL + 2))).resolves.toEqual(new Map());
  });

  it('lets the holder renew its own claim', async () => {
    await sut.claim('i-1', 'app-a', T0, TTL);
    await expect(sut.claim('i-1', 'app-a', at(10), TTL)).resolves.toBe(true);
    await expect(sut.claim('i-1', 'app-b', at(TTL + 5), TTL)).resolves.toBe(false);
  });

  it('decides concurrent claims of one instance exactly once', async () => {
    const owners = Array.from({ length: 8 }, (_, i) => `app-${i}`);
    const won = await Promise.all(owners.map((owner) => sut.claim('i-1', owner, T0, TTL)));
    expect(won.filter(Boolean)).toHaveLength(1);
    const holder = owners[won.indexOf(true)];
    await expect(sut.live(T0)).resolves.toEqual(new Map([['i-1', holder]]));
  });

  it("releases only the releasing owner's claims", async () => {
    await sut.claim('i-1', 'app-a', T0, TTL);
    await sut.claim('i-2', 'app-b', T0, TTL);
    await sut.release(['i-1', 'i-2'], 'app-a');
    await expect(sut.live(T0)).resolves.toEqual(new Map([['i-2', 'app-b']]));
    await expect(sut.claim('i-1', 'app-b', at(1), TTL)).resolves.toBe(true);
    await sut.release([], 'app-b'); // nothing to do, no query with an empty IN ()
  });
}

describe('TypeOrmInstanceClaims on SQLite', () => {
  behavesLikeInstanceClaims(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixpool-claims-'));
    return {
      config: loadConfig({ env: { PIXPOOL_DATABASE_FILE: path.join(dir, 'claims.sqlite') } })
        .database,
      drop: async () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  });
});

describeWithMysql('TypeOrmInstanceClaims on MariaDB/MySQL', () => {
  behavesLikeInstanceClaims(async () => {
    const db = await createTestMysqlDatabase();
    return { config: db.config(), drop: () => db.drop() };
  });
});
