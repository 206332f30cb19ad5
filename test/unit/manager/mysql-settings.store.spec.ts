import { createTestMysqlDatabase, describeWithMysql } from '../../support/mysql';
import { behavesLikeStoredSettings } from './settings-store.contract';

describeWithMysql('stored manager settings on MariaDB/MySQL', () => {
  behavesLikeStoredSettings(async () => {
    const db = await createTestMysqlDatabase();
    return { config: db.config({ migrationsRun: true }), drop: () => db.drop() };
  });
});
