import { createTestMysqlDatabase, describeWithMysql } from '../../support/mysql';
import { behavesLikeTheStatsStore } from './stats-store.contract';

describeWithMysql('TypeOrmStatsStore on MariaDB/MySQL', () => {
  behavesLikeTheStatsStore(async () => {
    const db = await createTestMysqlDatabase();
    return { config: db.config({ migrationsRun: true }), drop: () => db.drop() };
  });
});
