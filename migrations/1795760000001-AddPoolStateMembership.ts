import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/** Quarantined nodes and the target size of the pool (src/pool/membership/), as JSON. */
export class AddPoolStateMembership1795760000001 implements MigrationInterface {
  name = 'AddPoolStateMembership1795760000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn(
      'pool_state',
      new TableColumn({ name: 'membership', type: 'text', isNullable: true }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('pool_state', 'membership');
  }
}
