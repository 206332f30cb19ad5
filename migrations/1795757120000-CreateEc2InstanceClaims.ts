import { MigrationInterface, QueryRunner, Table } from 'typeorm';

/** Claims on EC2 instances, so two app instances never take the same one (see ec2-instance-claims.ts). */
export class CreateEc2InstanceClaims1795757120000 implements MigrationInterface {
  name = 'CreateEc2InstanceClaims1795757120000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'ec2_instance_claim',
        columns: [
          { name: 'instanceId', type: 'varchar', length: '32', isPrimary: true },
          { name: 'owner', type: 'varchar', length: '100' },
          { name: 'expiresAt', type: 'datetime', precision: 3 },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('ec2_instance_claim');
  }
}
