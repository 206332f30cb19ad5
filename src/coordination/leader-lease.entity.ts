import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from '../database/bigint-number.transformer';

/**
 * One row per lease (today one: 'singleton-jobs'). Mirrors
 * migrations/1795760000000-CreateLeaderLease.ts; the protocol is argued in leader-lease.ts.
 */
@Entity({ name: 'leader_lease' })
export class LeaderLeaseEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  name!: string;

  /** The instance holding the lease; null once it let go (shutdown), so another may take it at once. */
  @Column({ type: 'varchar', length: 200, nullable: true })
  holder!: string | null;

  /** The fencing token: grows by one with every new holder. */
  @Column({ type: 'bigint', transformer: bigintAsNumber })
  epoch!: number;

  /** Grows with every renewal: what contenders watch for signs of life. */
  @Column({ type: 'bigint', transformer: bigintAsNumber })
  version!: number;

  /** For people reading the table; the protocol never compares clocks of two hosts. */
  @Column({ name: 'renewed_at', type: 'datetime', precision: 3 })
  renewedAt!: Date;
}
