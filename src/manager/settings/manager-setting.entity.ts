import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * One operator setting of the pool (the cache configuration, the auto-scaler policy) as JSON, so
 * every app instance and every restart sees what the operator chose last. Mirrors
 * migrations/1795753000000-CreateManagerSettings.ts.
 */
@Entity({ name: 'manager_settings' })
export class ManagerSettingEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  name!: string;

  @Column({ type: 'text' })
  value!: string;

  @Column({ name: 'updated_at', type: 'datetime', precision: 3 })
  updatedAt!: Date;
}
