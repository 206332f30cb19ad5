import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { bigintAsNumber } from '../database/bigint-number.transformer';

/**
 * The outbox: one row per committed upload whose cache invalidation has not been confirmed yet.
 * Written in the upload's transaction, deleted once the owner node has applied it (see outbox.ts).
 * Mirrors migrations/1795761100000-CreatePendingInvalidations.ts.
 */
@Entity({ name: 'pending_invalidations' })
export class PendingInvalidationEntity {
  /** bigint: drivers hand it back as a string; ids stay below 2^53, so Number() is exact. */
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ type: 'varchar', length: 255 })
  key!: string;

  @Column({ type: 'bigint', transformer: bigintAsNumber })
  version!: number;

  @Column({ type: 'datetime', precision: 3 })
  createdAt!: Date;
}
