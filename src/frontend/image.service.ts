import { BadRequestException, Inject, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import { BLOB_STORE, BlobStore, newObjectName } from '../storage/blob-store';
import { IMAGE_TABLE, ImageRecord, ImageTable, KeyPage } from '../database/image-table';
import { StorageQuota } from './storage-quota';
import { validateKey } from '../common/image-key';
import { detectImageType } from './image-type';
import { checkUploadHeader } from '../imaging/upload-check';
import { ReadPathService } from './read-path.service';
import { StoredImage } from '../image/stored-image';
import { DependencyUnavailableError } from '../common/dependency-unavailable.error';
import { crashPoint } from '../common/test-crash-point';
import { OutboxService } from '../coordination/outbox.service';
import { testMutant } from '../protocol/test-mutants';
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
    private readonly quota: StorageQuota,
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
    await checkUploadHeader(file.buffer, contentType, this.config.imaging);
    await this.quota.assertRoomFor(key, file.size);

    // The branch point of two test mutants: commit first and fence after (the order before the
    // fence), or acknowledge before anything is fenced at all.
    const fenceFirst =
      !testMutant('commit-before-invalidate') && !testMutant('ack-before-invalidate');
    let fence = fenceFirst ? await this.fence.open(key) : undefined;
    // The object is written after the fence's waits (for subscribers, leases, marking again):
    // from its write to the commit only the storage and database deadlines may pass, which is
    // what the orphan sweeper's grace covers (outbox.ts, I2). Written before them, an object
    // could pass the grace while its upload still waited, and be swept before its row committed.
    const objectName = newObjectName();
    try {
      await this.blobs.put(objectName, file.buffer, contentType);
    } catch (err) {
      if (fence) this.fence.abandon(fence);
      throw err;
    }
    crashPoint('after-blob-write');
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
    crashPoint('after-commit');
    if (result.replacedObjectName) {
      await this.blobs.delete(result.replacedObjectName).catch((err: Error) => {
        this.logger.warn(
          `could not delete replaced object ${result.replacedObjectName}: ${err.message}`,
        );
      });
    }
    // Acknowledged only once the key is released (or invalidated again) everywhere; the outbox
    // record is acked once the release reached the nodes.
    const closed = (async () => {
      fence ??= await this.fence.open(key);
      await this.fence.close(fence, result.record.version, () => {
        void this.outbox.ack(result.pendingInvalidationId);
      });
    })();
    if (testMutant('ack-before-invalidate')) {
      closed.catch((err: Error) => this.logger.warn(`late invalidation: ${err.message}`));
      return result.record;
    }
    await closed;
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

  /**
   * Keys in code point order, at most `limit` (server.listKeysMax when not given) after `after`;
   * `next` is set when more keys follow: the `after` of the next page. Without `next` the answer
   * is exactly the course's shape.
   */
  async listKeys(page: KeyPage): Promise<{ keys: string[]; next?: string }> {
    const max = this.config.server.listKeysMax;
    const limit = page.limit ?? max;
    if (limit > max) {
      throw new BadRequestException(`limit must not exceed ${max} (server.listKeysMax)`);
    }
    const keys = await this.table.listKeys({ after: page.after, limit: limit + 1 });
    if (keys.length <= limit) return { keys };
    keys.length = limit;
    return { keys, next: keys[limit - 1] };
  }
}
