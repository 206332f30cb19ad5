import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from './bigint-number.transformer';

/**
 * The one row that versions come from (version-counter.ts). Mirrors
 * migrations/1796287900000-CreateVersionCounter.ts.
 */
@Entity({ name: 'version_counter' })
export class VersionCounterEntity {
  @PrimaryColumn({ type: 'int' })
  id!: number;

  /** The last version handed out. */
  @Column({ type: 'bigint', transformer: bigintAsNumber })
  value!: number;
}
