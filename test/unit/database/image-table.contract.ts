import { DataSource } from 'typeorm';
import { DatabaseConfig } from '../../../src/config/app-config';
import { openDataSource } from '../../../src/database/data-source.factory';
import { ImageEntity } from '../../../src/database/image.entity';
import { ImageRecord, ImageTable, UpsertImageInput } from '../../../src/database/image-table';
import { TypeOrmImageTable } from '../../../src/database/image-table.repository';
import { newObjectName } from '../../../src/storage/object-name';
import { CacheNodeClient } from '../../../src/pool/client/cache-node.client';
import { inProcessNode } from '../../support/in-process-node';

export interface TestDatabase {
  config: DatabaseConfig;
  drop(): Promise<void>;
}

const HOUR_MS = 3_600_000;

interface OtherInstance {
  upsertWithClockBehind(input: UpsertImageInput, behindMs: number): Promise<ImageRecord>;
  close(): Promise<void>;
}

/**
 * Another app instance on the same database: its own copy of the database modules (as another
 * process has), and a clock that runs behind while it writes.
 */
async function anotherInstance(config: DatabaseConfig): Promise<OtherInstance> {
  let modules!: [
    typeof import('../../../src/database/data-source.factory'),
    typeof import('../../../src/database/image-table.repository'),
  ];
  await jest.isolateModulesAsync(async () => {
    modules = [
      await import('../../../src/database/data-source.factory'),
      await import('../../../src/database/image-table.repository'),
    ];
  });
  const [factory, repository] = modules;
  const dataSource = await factory.openDataSource({ ...config, migrationsRun: false });
  const table = new repository.TypeOrmImageTable(dataSource);
  return {
    upsertWithClockBehind: async (input, behindMs) => {
      const realNow = Date.now.bind(Date);
      const clock = jest.spyOn(Date, 'now').mockImplementation(() => realNow() - behindMs);
      try {
        return (await table.upsert(input)).record;
      } finally {
        clock.mockRestore();
      }
    },
    close: () => dataSource.destroy(),
  };
}

let serial = 0;
function image(key: string, objectName = newObjectName()): UpsertImageInput {
  serial += 1;
  return {
    key,
    objectName,
    contentType: 'image/png',
    byteSize: 1000 + serial,
    checksum: 'ab'.repeat(32),
  };
}

/** Keys whose order differs between code points, case folding, collations and numbers. */
const ORDER_KEYS = [
  'b',
  'a',
  'B',
  'a ',
  '\u{1F600}',
  '\uFF21',
  'caf\u00e9',
  'cafe\u0301',
  'z1',
  'z10',
  'z2',
];

/** Code point order, which is UTF-8 byte order: what listKeys promises on every driver. */
function codePointSorted(keys: string[]): string[] {
  return [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/**
 * The behaviour every ImageTable owes the app, on a real database. `newDatabase` gives an empty
 * database (migrationsRun: true) that no other suite touches.
 */
export function behavesLikeTheImageTable(newDatabase: () => Promise<TestDatabase>): void {
  let db: TestDatabase;
  let dataSource: DataSource;
  let sut: ImageTable;
  beforeAll(async () => {
    db = await newDatabase();
    dataSource = await openDataSource(db.config);
    sut = new TypeOrmImageTable(dataSource);
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });
  beforeEach(() => dataSource.getRepository(ImageEntity).clear());

  it('finds nothing for an unknown key', async () => {
    expect(await sut.find('nope')).toBeNull();
  });

  it('stores a new key and finds it again, field for field', async () => {
    const input = image('cat');
    const before = Date.now();
    const { record, replacedObjectName } = await sut.upsert(input);
    expect(replacedObjectName).toBeNull();
    expect(record).toMatchObject(input);
    expect(Number.isSafeInteger(record.version) && record.version > 0).toBe(true);
    expect(record.createdAt.getTime()).toBeGreaterThanOrEqual(before);
    expect(record.updatedAt).toEqual(record.createdAt);
    const found = await sut.find('cat');
    expect(found).toEqual(record);
    expect(typeof found?.version).toBe('number');
    expect(typeof found?.byteSize).toBe('number');
  });

  it('replaces a key, names the orphaned object, raises the version, keeps createdAt', async () => {
    const first = await sut.upsert(image('cat'));
    await new Promise((r) => setTimeout(r, 5));
    const second = await sut.upsert({ ...image('cat'), contentType: 'image/jpeg' });
    expect(second.replacedObjectName).toBe(first.record.objectName);
    expect(second.record.version).toBeGreaterThan(first.record.version);
    expect(second.record.createdAt).toEqual(first.record.createdAt);
    expect(second.record.updatedAt.getTime()).toBeGreaterThan(first.record.updatedAt.getTime());
    expect(await sut.find('cat')).toEqual(second.record);
    expect(await sut.count()).toBe(1);
  });

  it('gives each commit the next version, whatever the key, and never reuses one', async () => {
    const v1 = (await sut.upsert(image('k'))).record.version;
    const v2 = (await sut.upsert(image('other'))).record.version;
    const v3 = (await sut.upsert(image('k'))).record.version;
    expect([v2 - v1, v3 - v2]).toEqual([1, 1]);
    await expect(sut.upsert(image('other', (await sut.find('k'))!.objectName))).rejects.toThrow();
    expect((await sut.upsert(image('k'))).record.version).toBeGreaterThan(v3);
  });

  it('gives a key re-created right after a delete-all a higher version than before', async () => {
    const before = (await sut.upsert(image('phoenix'))).record.version;
    await sut.deleteAll();
    const after = (await sut.upsert(image('phoenix'))).record.version;
    expect(after).toBeGreaterThan(before);
  });

  it('two instances, one an hour behind: a key re-created after a delete-all on the one behind wins', async () => {
    const behind = await anotherInstance(db.config);
    const node = inProcessNode();
    const { port } = await node.listen();
    const client = new CacheNodeClient({ url: `http://127.0.0.1:${port}`, timeoutMs: 5_000 });
    try {
      await client.setOwnership(1, [0]); // a node owns nothing until told
      const old = (await sut.upsert(image('phoenix'))).record.version;
      await sut.deleteAll();
      const renewed = (await behind.upsertWithClockBehind(image('phoenix'), HOUR_MS)).version;
      const otherKey = (await behind.upsertWithClockBehind(image('dove'), HOUR_MS)).version;
      const afterThat = (await sut.upsert(image('crow'))).record.version;
      // Versions order commits, whatever either clock says, across instances and keys.
      expect([old, renewed, otherKey, afterThat]).toEqual(
        [old, renewed, otherKey, afterThat].sort((a, b) => a - b),
      );
      expect(new Set([old, renewed, otherKey, afterThat]).size).toBe(4);

      // A node that gets the old copy after the new one (a lagging transfer) must keep the new.
      await client.put('phoenix', 0, Buffer.from('renewed'), { version: renewed });
      await client.put('phoenix', 0, Buffer.from('old'), { version: old });
      const read = await client.get('phoenix', 0);
      expect(read.kind === 'hit' && read.value.toString()).toBe('renewed');
    } finally {
      client.close();
      await node.close();
      await behind.close();
    }
  });

  it('goes above a row written without the counter (an older release, by its clock ahead)', async () => {
    const ahead = (await sut.upsert(image('x'))).record.version + 1e9;
    await dataSource.getRepository(ImageEntity).update({ key: 'x' }, { version: ahead });
    const over = (await sut.upsert(image('x'))).record.version;
    expect(over).toBeGreaterThan(ahead);
    expect((await sut.upsert(image('y'))).record.version).toBeGreaterThan(over);
  });

  it('lists keys in code point order', async () => {
    for (const key of ORDER_KEYS) await sut.upsert(image(key));
    expect(await sut.listKeys()).toEqual(codePointSorted(ORDER_KEYS));
  });

  it('pages through the keys with after and limit: each once, in code point order', async () => {
    for (const key of ORDER_KEYS) await sut.upsert(image(key));
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await sut.listKeys({ after, limit: 3 });
      expect(page.length).toBeLessThanOrEqual(3);
      seen.push(...page);
      if (page.length < 3) break;
      after = page[page.length - 1];
    }
    expect(seen).toEqual(codePointSorted(ORDER_KEYS));
  });

  it('sums the sizes of the stored images, replaced ones counted once', async () => {
    expect(await sut.totalBytes()).toBe(0);
    const a = await sut.upsert(image('a'));
    const b = await sut.upsert(image('b'));
    const a2 = await sut.upsert(image('a'));
    expect(await sut.totalBytes()).toBe(a2.record.byteSize + b.record.byteSize);
    expect(a.record.byteSize).not.toBe(a2.record.byteSize);
  });

  it('tells keys apart byte for byte: case, trailing space, Unicode normal form', async () => {
    const keys = ['Key', 'key', 'KEY', 'a', 'a ', 'caf\u00e9', 'cafe\u0301'];
    const objects = new Map<string, string>();
    for (const key of keys) objects.set(key, (await sut.upsert(image(key))).record.objectName);
    expect(await sut.count()).toBe(keys.length);
    for (const key of keys) expect((await sut.find(key))?.objectName).toBe(objects.get(key));
    expect(await sut.find('kEy')).toBeNull();
  });

  it('keeps any Unicode key intact, up to 250 four-byte characters', async () => {
    const keys = [
      '\u{1F600}\u{1F389}',
      '\u00e9t\u00e9 \u00e0 Z\u00fcrich',
      '\u732b\u306e\u5199\u771f',
      '\u{1F600}'.repeat(250),
    ];
    for (const key of keys) await sut.upsert(image(key));
    for (const key of keys) expect((await sut.find(key))?.key).toBe(key);
    expect(await sut.listKeys()).toEqual(codePointSorted(keys));
  });

  it('refuses to point two keys at one object', async () => {
    const shared = newObjectName();
    await sut.upsert(image('one', shared));
    await expect(sut.upsert(image('two', shared))).rejects.toThrow();
    expect(await sut.find('two')).toBeNull();
  });

  it('deleteAll empties the table and returns the objects the rows referenced', async () => {
    const names = [];
    for (const key of ['a', 'b', 'c']) names.push((await sut.upsert(image(key))).record.objectName);
    await sut.upsert(image('a')); // the first object of "a" is no longer referenced
    names[0] = (await sut.find('a'))!.objectName;
    const { objectNames, version } = await sut.deleteAll();
    expect(objectNames.sort()).toEqual(names.sort());
    expect(await sut.count()).toBe(0);
    expect(await sut.listKeys()).toEqual([]);
    const again = await sut.deleteAll();
    expect(again.objectNames).toEqual([]);
    expect(again.version).toBeGreaterThan(version);
  });

  it('deleteAll racing upserts: it returns the objects of exactly the rows it deleted, and its version splits them', async () => {
    const upserts = Array.from({ length: 60 }, (_, i) => sut.upsert(image(`fresh-${i}`)));
    const cleared = await sut.deleteAll();
    const written = (await Promise.all(upserts)).map((r) => r.record);
    const surviving = new Map(
      (await Promise.all(written.map((r) => sut.find(r.key)))).flatMap((r) =>
        r ? [[r.objectName, r]] : [],
      ),
    );
    for (const record of written) {
      if (surviving.has(record.objectName)) {
        expect(cleared.objectNames).not.toContain(record.objectName);
        expect(record.version).toBeGreaterThan(cleared.version);
      } else {
        expect(cleared.objectNames).toContain(record.objectName);
        expect(record.version).toBeLessThan(cleared.version);
      }
    }
    expect(cleared.objectNames.length + surviving.size).toBe(written.length);
  });

  it('counts rows', async () => {
    expect(await sut.count()).toBe(0);
    for (const key of ['a', 'b', 'c']) await sut.upsert(image(key));
    await sut.upsert(image('b'));
    expect(await sut.count()).toBe(3);
  });

  it.each([
    ['a new key', false],
    ['an existing key', true],
  ])('serialises 20 concurrent upserts of %s', async (_label, seeded) => {
    const seed = seeded ? (await sut.upsert(image('hot'))).record.objectName : null;
    const results = await Promise.all(Array.from({ length: 20 }, () => sut.upsert(image('hot'))));

    expect(await sut.count()).toBe(1);
    const byVersion = [...results].sort((a, b) => a.record.version - b.record.version);
    expect(new Set(byVersion.map((r) => r.record.version)).size).toBe(20);
    // Each write replaced exactly the one committed before it: one chain, no lost orphan.
    let previous = seed;
    for (const r of byVersion) {
      expect(r.replacedObjectName).toBe(previous);
      previous = r.record.objectName;
    }
    expect((await sut.find('hot'))?.objectName).toBe(previous);
  });

  it('keeps 20 concurrent upserts of different keys', async () => {
    const keys = Array.from({ length: 20 }, (_, i) => `k${i}`);
    await Promise.all(keys.map((k) => sut.upsert(image(k))));
    expect(await sut.listKeys()).toEqual(codePointSorted(keys));
  });

  it('answers ping', async () => {
    await expect(sut.ping()).resolves.toBeUndefined();
  });
}

/** Migrations up, down (the table is gone), and up again, on a database of its own. */
export function migratesUpAndDown(newDatabase: () => Promise<TestDatabase>): void {
  it('runs the migrations up, down and up again', async () => {
    const db = await newDatabase();
    const dataSource = await openDataSource({ ...db.config, migrationsRun: false });
    const runner = dataSource.createQueryRunner();
    try {
      expect(await runner.hasTable('images')).toBe(false);
      const migrations = dataSource.migrations.length;
      expect((await dataSource.runMigrations()).length).toBe(migrations);
      expect(await runner.hasTable('images')).toBe(true);

      for (let i = 0; i < migrations; i += 1) await dataSource.undoLastMigration();
      expect(await runner.hasTable('images')).toBe(false);

      expect((await dataSource.runMigrations()).length).toBe(migrations);
      const table = new TypeOrmImageTable(dataSource);
      await table.upsert(image('\u{1F600}'));
      expect(await table.listKeys()).toEqual(['\u{1F600}']);
    } finally {
      await runner.release();
      await dataSource.destroy();
      await db.drop();
    }
  });

  it('starts the version counter above every version written before it, by any clock', async () => {
    const db = await newDatabase();
    const dataSource = await openDataSource({ ...db.config, migrationsRun: false });
    const runner = dataSource.createQueryRunner();
    try {
      await dataSource.runMigrations();
      while (await runner.hasTable('version_counter')) await dataSource.undoLastMigration();
      // A row versioned by the microsecond clock of an instance running years ahead.
      const ahead = (Date.now() + 10 * 365 * 24 * HOUR_MS) * 1000;
      await dataSource.getRepository(ImageEntity).insert({
        ...image('ahead'),
        version: ahead,
        createdAt: new Date(),
        updatedAt: new Date(),
      });
      await dataSource.runMigrations();
      const table = new TypeOrmImageTable(dataSource);
      expect((await table.upsert(image('after'))).record.version).toBeGreaterThan(ahead);
    } finally {
      await runner.release();
      await dataSource.destroy();
      await db.drop();
    }
  });

  it('fails ping with a clear message once the connection is closed', async () => {
    const db = await newDatabase();
    const dataSource = await openDataSource(db.config);
    const table = new TypeOrmImageTable(dataSource);
    await dataSource.destroy();
    try {
      await expect(table.ping()).rejects.toThrow(/^database: .* does not answer/);
    } finally {
      await db.drop();
    }
  });
}
