import { S3Client } from '@aws-sdk/client-s3';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../../src/config/app-config';
import { loadConfig } from '../../../src/config/config-loader';
import { OrphanSweeper } from '../../../src/coordination/orphan-sweeper.service';
import { openDataSource } from '../../../src/database/data-source.factory';
import { TypeOrmImageTable } from '../../../src/database/image-table.repository';
import { BlobStore } from '../../../src/storage/blob-store';
import { FsBlobStore } from '../../../src/storage/fs-blob-store';
import { newObjectName } from '../../../src/storage/object-name';
import { S3BlobStore } from '../../../src/storage/s3-blob-store';
import { S3TestServer, startS3rver } from '../../support/s3rver';

/*
 * The orphan sweep on a real SQLite key table and real stores (a folder, s3rver): it deletes
 * unnamed objects older than the grace, keeps named and young ones, and what it lists does not
 * grow with the store: object names start with their upload hour, and a pass lists only the
 * hours of resilience.orphanSweepLookbackHours.
 */
const HOUR = 3_600_000;

describe('OrphanSweeper', () => {
  let dir: string;
  let dataSource: DataSource;
  let table: TypeOrmImageTable;
  let config: AppConfig;
  let s3: S3TestServer;

  beforeAll(async () => {
    s3 = await startS3rver();
  }, 60_000);
  afterAll(() => s3.stop());
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixpool-sweeper-'));
    config = loadConfig({
      env: {
        PIXPOOL_DATABASE_FILE: path.join(dir, 'keys.sqlite'),
        PIXPOOL_RESILIENCE_ORPHAN_SWEEP_LOOKBACK_HOURS: '24',
      },
    });
    dataSource = await openDataSource({ ...config.database, migrationsRun: true });
    table = new TypeOrmImageTable(dataSource);
  });
  afterEach(async () => {
    await dataSource.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('runs every few hours by default, not every minute', () => {
    const defaults = loadConfig({ env: {} }).resilience;
    expect(defaults.orphanSweepIntervalMs).toBeGreaterThanOrEqual(HOUR);
    expect(defaults.orphanSweepLookbackHours * HOUR).toBeGreaterThan(
      defaults.orphanSweepIntervalMs + defaults.orphanGraceMs,
    );
  });

  it('refuses a lookback that would let an orphan fall between two passes', () => {
    const short = loadConfig({
      env: {
        PIXPOOL_RESILIENCE_ORPHAN_SWEEP_INTERVAL_MS: String(6 * HOUR),
        PIXPOOL_RESILIENCE_ORPHAN_SWEEP_LOOKBACK_HOURS: '6',
      },
    });
    expect(() => new OrphanSweeper(short, new FsBlobStore(dir), table)).toThrow(
      /orphanSweepLookbackHours/,
    );
  });

  /** The same behaviour on both stores; `listings` counts what the store was asked to list. */
  const sweepsRecentOrphansOnly = (
    name: string,
    store: () => { blobs: BlobStore; listings: () => number },
  ): void => {
    it(`${name}: deletes old unnamed objects, keeps named and young ones; listing cost independent of the store's size`, async () => {
      const { blobs, listings } = store();
      const sweeper = new OrphanSweeper(config, blobs, table);
      const put = async (objectName: string) => {
        await blobs.put(objectName, Buffer.from(objectName), 'image/png');
        return objectName;
      };
      const named = await put(newObjectName());
      await table.upsert({
        key: 'kept',
        objectName: named,
        contentType: 'image/png',
        byteSize: 10,
        checksum: 'ab'.repeat(32),
      });
      const orphan = await put(newObjectName());
      const later = new Date(Date.now() + config.resilience.orphanGraceMs + 60_000);

      const before = listings();
      expect(await sweeper.sweep(later)).toBe(1);
      const smallStoreListings = listings() - before;

      expect(await blobs.get(orphan)).toBeNull();
      expect(await blobs.get(named)).not.toBeNull();
      // Young: the same pass at the real time keeps a fresh orphan.
      const young = await put(newObjectName());
      expect(await sweeper.sweep(new Date())).toBe(0);
      expect(await blobs.get(young)).not.toBeNull();

      // Many objects from long ago (their hours are outside the lookback): never listed again.
      for (let i = 0; i < 40; i++) {
        await put(newObjectName(new Date(Date.now() - (200 + i) * HOUR)));
      }
      const after = listings();
      expect(await sweeper.sweep(later)).toBe(1); // the young orphan, old by then
      expect(listings() - after).toBe(smallStoreListings);
      expect(smallStoreListings).toBeLessThanOrEqual(26); // one per hour of the lookback (+ edges)
    }, 60_000);
  };

  sweepsRecentOrphansOnly('a folder store', () => {
    const blobs = new FsBlobStore(path.join(dir, 'objects'));
    let count = 0;
    const list = blobs.list.bind(blobs);
    blobs.list = (prefix?: string) => {
      count += 1;
      return list(prefix);
    };
    return { blobs, listings: () => count };
  });

  sweepsRecentOrphansOnly('s3rver', () => {
    const client: S3Client = s3.client();
    let count = 0;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'ListObjectsV2Command') count += 1;
        return next(args);
      },
      { step: 'initialize' },
    );
    const prefix = `sweep${path.basename(dir).slice(-6).toLowerCase()}/`;
    return {
      blobs: new S3BlobStore(client, { bucket: s3.bucket, prefix }),
      listings: () => count,
    };
  });
});
