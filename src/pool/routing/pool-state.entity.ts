import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from '../../database/bigint-number.transformer';

/** One row (id 1): the pool's assignment, shared by every app instance through the database. */
@Entity('pool_state')
export class PoolStateEntity {
  @PrimaryColumn({ type: 'int' })
  id!: number;

  @Column({ type: 'bigint', transformer: bigintAsNumber })
  epoch!: number;

  /** JSON: node id per region. */
  @Column({ type: 'text' })
  owners!: string;

  /** JSON: [{ id, url }] in pool order. */
  @Column({ type: 'text' })
  nodes!: string;

  /** JSON: { owners, nodes } of the assignment this one replaced, or null. */
  @Column({ type: 'text', nullable: true })
  previous!: string | null;

  @Column({ type: 'datetime', precision: 3 })
  updatedAt!: Date;

  /** JSON: { quarantined, target } (src/pool/membership/), or null before any was saved. */
  @Column({ type: 'text', nullable: true })
  membership!: string | null;
}
