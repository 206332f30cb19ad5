import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from './bigint-number.transformer';
import { KEY_COLUMN_LENGTH } from '../common/image-key';

/*
 * Mirrors migrations/1795751000000-CreateImages.ts, which owns the real schema (synchronize is
 * off): keys compare byte for byte on both drivers ("A" ≠ "a"), see the migration for why.
 */
@Entity({ name: 'images' })
export class ImageEntity {
  @PrimaryColumn({ type: 'varchar', length: KEY_COLUMN_LENGTH })
  key!: string;

  @Index('UQ_images_objectName', { unique: true })
  @Column({ type: 'varchar', length: 128 })
  objectName!: string;

  @Column({ type: 'varchar', length: 255 })
  contentType!: string;

  @Column({ type: 'int' })
  byteSize!: number;

  @Column({ type: 'varchar', length: 64 })
  checksum!: string;

  @Column({ type: 'bigint', transformer: bigintAsNumber })
  version!: number;

  @Column({ type: 'datetime', precision: 3 })
  createdAt!: Date;

  @Column({ type: 'datetime', precision: 3 })
  updatedAt!: Date;
}
