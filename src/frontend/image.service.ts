import { BadRequestException, Inject, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import { BLOB_STORE, BlobStore, newObjectName } from '../storage/blob-store';
import { IMAGE_TABLE, ImageRecord, ImageTable } from '../database/image-table';
import { validateKey } from '../common/image-key';
import { detectImageType } from './image-type';
import { checkUploadHeader } from '../imaging/upload-check';
import { ReadPathService } from './read-path.service';
import { StoredImage } from '../image/stored-image';
import { DependencyUnavailableError } from '../common/dependency-unavailable.error';
import { crashPoint } from '../common/test-crash-point';
import { OutboxService } from '../coordination/outbox.service';

export interface UploadedImageFile {
  buffer: Buffer;
  size: number;
}

@Injectable()
export class ImageService {
  private readonly logger = new Logger(ImageService.name);

  constructor(
    private readonly config: AppConfig,
    @Inject(IMAGE_TABLE) private readonly table: ImageTable,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
    private readonly readPath: ReadPathService,
    private readonly outbox: OutboxService,
  ) {}

  /**
   * Durable before acknowledged: the blob is written under a fresh name, then the row is committed
   * pointing at it together with its pending invalidation (the outbox), the cache is told, and the
   * outbox record acked. A failure before the commit removes the new blob, so a failed upload
   * leaves nothing behind; the previous object of the key is deleted only after the commit. What a
   * crash or a timeout at each step leaves, and what repairs it: src/coordination/outbox.ts.
   */
  async upload(rawKey: unknown, file: UploadedImageFile | undefined): Promise<ImageRecord> {
    const key = validateKey(rawKey, this.config.server.maxKeyLength);
    if (!file) throw new BadRequestException('file is required (multipart field "file")');
    if (file.size === 0) throw new BadRequestException('file is empty');
    const contentType = detectImageType(file.buffer);
    await checkUploadHeader(file.buffer, contentType, this.config.imaging);

    const objectName = newObjectName();
    await this.blobs.put(objectName, file.buffer, contentType);
    crashPoint(this.config.resilience, 'after-blob-write');
    let result: Awaited<ReturnType<ImageTable['upsert']>>;
    try {
      result = await this.table.upsert({
        key,
        objectName,
        contentType,
        byteSize: file.size,
        checksum: createHash('sha256').update(file.buffer).digest('hex'),
      });
    } catch (err) {
      // A database outage leaves the outcome unknown: the commit may still land and name this
      // object. The orphan sweeper deletes it later if no row does.
      if (err instanceof DependencyUnavailableError) throw err;
      await this.blobs.delete(objectName).catch((cleanupErr: Error) => {
        this.logger.error(
          `orphan object ${objectName} left after a failed upload: ${cleanupErr.message}`,
        );
      });
      throw err;
    }
    crashPoint(this.config.resilience, 'after-commit');
    if (result.replacedObjectName) {
      await this.blobs.delete(result.replacedObjectName).catch((err: Error) => {
        this.logger.warn(
          `could not delete replaced object ${result.replacedObjectName}: ${err.message}`,
        );
      });
    }
    await this.readPath.invalidate(key, result.record.version);
    await this.outbox.ack(result.pendingInvalidationId);
    return result.record;
  }

  async get(rawKey: unknown): Promise<StoredImage> {
    const key = validateKey(rawKey, this.config.server.maxKeyLength);
    const image = await this.readPath.read(key);
    if (!image) throw new NotFoundException(`unknown key: ${key}`);
    return image;
  }

  async describe(rawKey: unknown): Promise<ImageRecord> {
    const key = validateKey(rawKey, this.config.server.maxKeyLength);
    const record = await this.table.find(key);
    if (!record) throw new NotFoundException(`unknown key: ${key}`);
    return record;
  }

  listKeys(): Promise<string[]> {
    return this.table.listKeys();
  }

  /** Rows first, so no read finds a row whose object is already gone; then every object. */
  async clearData(): Promise<void> {
    const names = await this.table.deleteAll();
    const removed = await this.blobs.deleteAll();
    await this.readPath.clearCache();
    this.logger.log(`cleared data: ${names.length} keys, ${removed} objects`);
  }
}
