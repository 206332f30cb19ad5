import { loadConfig } from '../../../src/config/config-loader';
import { openDataSource } from '../../../src/database/data-source.factory';
import { createTestMysqlDatabase, describeWithMysql } from '../../support/mysql';
import { behavesLikeTheImageTable, migratesUpAndDown, TestDatabase } from './image-table.contract';

async function newMysqlDatabase(): Promise<TestDatabase> {
  const db = await createTestMysqlDatabase();
  return { config: db.config(), drop: () => db.drop() };
}

describeWithMysql('ImageTable on MariaDB/MySQL', () => {
  behavesLikeTheImageTable(newMysqlDatabase);
  migratesUpAndDown(newMysqlDatabase);

  it('connects by database.url even when host, port and user say otherwise', async () => {
    const db = await createTestMysqlDatabase();
    const config = db.config({
      host: 'nowhere.invalid',
      port: 1,
      user: 'nobody',
      migrationsRun: false,
    });
    try {
      const dataSource = await openDataSource(config);
      expect(dataSource.driver.database).toBe(db.name);
      await dataSource.destroy();
    } finally {
      await db.drop();
    }
  });

  it('names the server but not the password when it cannot connect', async () => {
    const config = loadConfig({
      env: {
        PIXPOOL_DATABASE_DRIVER: 'mysql',
        PIXPOOL_DATABASE_URL: 'mysql://app:s3cret@127.0.0.1:1/pixpool',
      },
    }).database;
    const failure = openDataSource(config);
    await expect(failure).rejects.toThrow(
      'database: cannot open MySQL mysql://app@127.0.0.1:1/pixpool',
    );
    await expect(failure).rejects.not.toThrow(/s3cret/);
  });
});
