import { BadRequestException, Inject, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import { BLOB_STORE, BlobStore, newObjectName } from '../storage/blob-store';
import { IMAGE_TABLE, ImageRecord, ImageTable } from '../database/image-table';
import { validateKey } from '../common/image-key';
import { detectImageType } from './image-type';
import { ReadPathService } from './read-path.service';
import { StoredImage } from '../image/stored-image';
import { DependencyUnavailableError } from '../common/dependency-unavailable.error';
import { crashPoint } from '../common/test-crash-point';
import { OutboxService } from '../coordination/outbox.service';
import { WriteFence } from './write-fence';

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
    private readonly fence: WriteFence,
  ) {}

  /**
   * Durable before acknowledged, and linearizable: the blob is written under a fresh name, the key
   * is made pending at its owner and every near cache (write-fence.ts: why no read can then return
   * an older image after any read returned this one), then the row is committed pointing at it
   * together with its pending invalidation (the outbox), and the key released. A failure before
   * the commit removes the new blob, so a failed upload leaves nothing behind; the previous object
   * of the key is deleted only after the commit. What a crash or a timeout at each step leaves,
   * and what repairs it: src/coordination/outbox.ts and write-fence.ts.
   */
  async upload(rawKey: unknown, file: UploadedImageFile | undefined): Promise<ImageRecord> {
    const key = validateKey(rawKey, this.config.server.maxKeyLength);
    if (!file) throw new BadRequestException('file is required (multipart field "file")');
    if (file.size === 0) throw new BadRequestException('file is empty');
    const contentType = detectImageType(file.buffer);

    const objectName = newObjectName();
    await this.blobs.put(objectName, file.buffer, contentType);
    crashPoint(this.config.resilience, 'after-blob-write');
    // The one branch point of the test mutant: commit first, fence after (the old order).
    const commitFirst = this.fence.commitFirst;
    let fence = commitFirst ? undefined : await this.fence.open(key);
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
      // object. The orphan sweeper deletes it later if no row does; the marks run out.
      if (err instanceof DependencyUnavailableError) throw err;
      if (fence) this.fence.abandon(fence);
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
    fence ??= await this.fence.open(key);
    await this.fence.close(fence, result.record.version, () => {
      void this.outbox.ack(result.pendingInvalidationId);
    });
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

  /**
   * Every key pending first (write-fence.ts, as an upload does for one key), then the rows, so no
   * read finds a row whose object is already gone, then every object, then the release.
   */
  async clearData(): Promise<void> {
    const fence = await this.fence.open(undefined);
    const names = await this.table.deleteAll();
    const removed = await this.blobs.deleteAll();
    await this.fence.close(fence, undefined, () => undefined);
    this.logger.log(`cleared data: ${names.length} keys, ${removed} objects`);
  }
}
