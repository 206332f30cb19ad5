import { MigrationInterface, QueryRunner, Table } from 'typeorm';

/**
 * The invalidation outbox (PendingInvalidationEntity, src/coordination/outbox.ts). The key column
 * matches images.key (utf8mb4, the images table's binary collation on MySQL) so a key is sent
 * back to the nodes exactly as it was uploaded.
 */
export class CreatePendingInvalidations1795761100000 implements MigrationInterface {
  name = 'CreatePendingInvalidations1795761100000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const mysql = ['mysql', 'mariadb'].includes(queryRunner.connection.options.type);
    const collation = mysql
      ? (
          (await queryRunner.query(
            `SELECT COLLATION_NAME AS name FROM information_schema.COLUMNS
           WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'images' AND COLUMN_NAME = 'key'`,
          )) as { name: string }[]
        )[0]?.name
      : undefined;
    await queryRunner.createTable(
      new Table({
        name: 'pending_invalidations',
        columns: [
          {
            name: 'id',
            type: mysql ? 'bigint' : 'integer',
            isPrimary: true,
            isGenerated: true,
            generationStrategy: 'increment',
          },
          {
            name: 'key',
            type: 'varchar',
            length: '255',
            ...(collation ? { charset: 'utf8mb4', collation } : {}),
          },
          { name: 'version', type: 'bigint' },
          { name: 'createdAt', type: 'datetime', precision: 3 },
        ],
        indices: [{ name: 'IDX_pending_invalidations_createdAt', columnNames: ['createdAt'] }],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('pending_invalidations');
  }
}
