import { MigrationInterface, QueryRunner, Table } from 'typeorm';

/** Operator settings of the pool (ManagerSettingEntity): cache configuration, auto-scaler policy. */
export class CreateManagerSettings1795753000000 implements MigrationInterface {
  name = 'CreateManagerSettings1795753000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'manager_settings',
        columns: [
          { name: 'name', type: 'varchar', length: '64', isPrimary: true },
          // JSON of a few fields; text, because MySQL's JSON type has no SQLite twin.
          { name: 'value', type: 'text' },
          { name: 'updated_at', type: 'datetime', precision: 3 },
        ],
      }),
      true,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('manager_settings', true);
  }
}
