import { Column, Entity, PrimaryColumn, ValueTransformer } from 'typeorm';

/** MySQL returns BIGINT as a string; the counters stay far below 2^53, so a number is exact. */
const bigintAsNumber: ValueTransformer = {
  to: (value: number) => value,
  from: (value: string | number | null) => (value === null ? 0 : Number(value)),
};

/**
 * One row per minute of pool statistics. The key is the minute number since the epoch rather than a
 * DATETIME: SQLite and MySQL store datetimes with different time-zone rules, an integer means the same
 * on both.
 */
@Entity({ name: 'stats_minutes' })
export class StatsMinuteEntity {
  @PrimaryColumn({ type: 'integer' })
  minute!: number;

  @Column({ name: 'pool_size', type: 'integer' })
  poolSize!: number;

  @Column({ name: 'pool_size_max', type: 'integer' })
  poolSizeMax!: number;

  @Column({ type: 'bigint', transformer: bigintAsNumber })
  requests!: number;

  @Column({ type: 'bigint', transformer: bigintAsNumber })
  hits!: number;

  @Column({ type: 'bigint', transformer: bigintAsNumber })
  misses!: number;

  @Column({ type: 'bigint', transformer: bigintAsNumber })
  evictions!: number;

  @Column({ type: 'bigint', transformer: bigintAsNumber })
  items!: number;

  /** Up to 8 nodes x 64 GB: past the 32-bit INTEGER of MySQL. */
  @Column({ type: 'bigint', transformer: bigintAsNumber })
  bytes!: number;
}
