import { createTestMysqlDatabase, describeWithMysql } from '../../support/mysql';
import { behavesLikeTheOutbox } from './outbox.contract';

describeWithMysql('outbox and orphan sweep on MariaDB', () => {
  behavesLikeTheOutbox(async () => {
    const db = await createTestMysqlDatabase();
    return { config: db.config(), drop: () => db.drop() };
  });
});
