import { DataSource } from 'typeorm';
import { DatabaseConfig } from '../../../src/config/app-config';
import { openDataSource } from '../../../src/database/data-source.factory';
import { ImageEntity } from '../../../src/database/image.entity';
import { ImageTable, UpsertImageInput } from '../../../src/database/image-table';
import { TypeOrmImageTable } from '../../../src/database/image-table.repository';
import { newObjectName } from '../../../src/storage/object-name';

export interface TestDatabase {
  config: DatabaseConfig;
  drop(): Promise<void>;
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
    expect(record.version).toBeGreaterThanOrEqual(before * 1000);
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

  it('raises versions per key even when the clock steps back', async () => {
    let now = 5_000_000;
    const stepsBack = new TypeOrmImageTable(dataSource, () => (now -= 1000));
    const v1 = (await stepsBack.upsert(image('k'))).record.version;
    const v2 = (await stepsBack.upsert(image('k'))).record.version;
    expect(v2).toBe(v1 + 1);
  });

  it('gives a key re-created right after a delete-all a higher version than before', async () => {
    const before = (await sut.upsert(image('phoenix'))).record.version;
    await sut.deleteAll();
    const after = (await sut.upsert(image('phoenix'))).record.version;
    expect(after).toBeGreaterThan(before);
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
    expect((await sut.deleteAll()).sort()).toEqual(names.sort());
    expect(await sut.count()).toBe(0);
    expect(await sut.listKeys()).toEqual([]);
    expect(await sut.deleteAll()).toEqual([]);
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
