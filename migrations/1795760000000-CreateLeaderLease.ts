import { MigrationInterface, QueryRunner, Table } from 'typeorm';

/** The leader lease of the singleton jobs (src/coordination/leader-lease.ts). */
export class CreateLeaderLease1795760000000 implements MigrationInterface {
  name = 'CreateLeaderLease1795760000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'leader_lease',
        columns: [
          { name: 'name', type: 'varchar', length: '64', isPrimary: true },
          { name: 'holder', type: 'varchar', length: '200', isNullable: true },
          { name: 'epoch', type: 'bigint' },
          { name: 'version', type: 'bigint' },
          { name: 'renewed_at', type: 'datetime', precision: 3 },
        ],
      }),
      true,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('leader_lease', true);
  }
}
