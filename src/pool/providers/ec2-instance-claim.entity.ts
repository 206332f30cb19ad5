import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One row per EC2 instance an app instance is taking into the pool (or stopping as a stray). */
@Entity('ec2_instance_claim')
export class Ec2InstanceClaimEntity {
  @PrimaryColumn({ type: 'varchar', length: 32 })
  instanceId!: string;

  /** Which app instance holds the claim (random per process). */
  @Column({ type: 'varchar', length: 100 })
  owner!: string;

  /** Past this moment the claim is free for anyone. */
  @Column({ type: 'datetime', precision: 3 })
  expiresAt!: Date;
}
