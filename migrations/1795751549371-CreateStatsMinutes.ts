import { MigrationInterface, QueryRunner, Table } from 'typeorm';

/** The per-minute pool statistics of the dashboard (StatsMinuteEntity). */
export class CreateStatsMinutes1795751549371 implements MigrationInterface {
  name = 'CreateStatsMinutes1795751549371';

  async up(queryRunner: QueryRunner): Promise<void> {
    const counter = (name: string) => ({ name, type: 'bigint' });
    await queryRunner.createTable(
      new Table({
        name: 'stats_minutes',
        columns: [
          // Minute number since the epoch; set by the app, never generated.
          { name: 'minute', type: 'integer', isPrimary: true },
          { name: 'pool_size', type: 'integer' },
          { name: 'pool_size_max', type: 'integer' },
          counter('requests'),
          counter('hits'),
          counter('misses'),
          counter('evictions'),
          counter('items'),
          counter('bytes'),
        ],
      }),
      true,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('stats_minutes', true);
  }
}
