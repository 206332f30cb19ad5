import { MigrationInterface, QueryRunner, Table } from 'typeorm';

/** The pool's assignment (one row), shared by every app instance. */
export class CreatePoolState1795752000000 implements MigrationInterface {
  name = 'CreatePoolState1795752000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'pool_state',
        columns: [
          { name: 'id', type: 'int', isPrimary: true },
          { name: 'epoch', type: 'bigint' },
          { name: 'owners', type: 'text' },
          { name: 'nodes', type: 'text' },
          { name: 'previous', type: 'text', isNullable: true },
          { name: 'updatedAt', type: 'datetime', precision: 3 },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('pool_state');
  }
}
