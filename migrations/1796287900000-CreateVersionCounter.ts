import { MigrationInterface, QueryRunner, Table } from 'typeorm';

/**
 * The version counter (src/database/version-counter.ts): one row, id 1.
 *
 * Its first value bridges from the versions handed out before it, which were the instances'
 * clocks in microseconds: rows and pending invalidations hold such versions, and cache nodes and
 * near caches may still hold entries, tombstones and floors at them for keys that no longer have
 * a row. So the counter starts above every version in the tables and above this clock in
 * microseconds. This is the only clock reading the counter ever sees.
 */
export class CreateVersionCounter1796287900000 implements MigrationInterface {
  name = 'CreateVersionCounter1796287900000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'version_counter',
        columns: [
          { name: 'id', type: 'int', isPrimary: true },
          { name: 'value', type: 'bigint' },
        ],
      }),
    );
    const highest = async (table: string): Promise<number> => {
      const rows = (await queryRunner.query(`SELECT MAX(version) AS v FROM ${table}`)) as Array<{
        v: string | number | null;
      }>;
      return Number(rows[0]?.v ?? 0);
    };
    const start = Math.max(
      await highest('images'),
      await highest('pending_invalidations'),
      Date.now() * 1000,
    );
    await queryRunner.query('INSERT INTO version_counter (id, value) VALUES (1, ?)', [start]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('version_counter');
  }
}
