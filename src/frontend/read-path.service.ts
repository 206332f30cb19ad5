import { Inject, Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { DependencyUnavailableError } from '../common/dependency-unavailable.error';
import { ServiceBusyError } from '../common/service-busy.error';
import { BLOB_STORE, BlobStore } from '../storage/blob-store';
import { IMAGE_TABLE, ImageTable } from '../database/image-table';
import { IMAGE_TYPES } from '../image/image-formats';
import { StoredImage } from '../image/stored-image';
import { SingleFlight } from '../pool/single-flight';
import { PoolCacheService, PoolRead, StorageLoad } from '../pool/pool-cache.service';
import { NearCacheService } from '../near-cache/near-cache.service';

/**
 * The one way images are read: every route that returns an image goes through here, so the cache
 * pool has a single place to slot into. Storage (row + blob) is the truth.
 */
@Injectable()
export class ReadPathService {
  private readonly logger = new Logger(ReadPathService.name);
  private readonly blobFetches: SingleFlight<Buffer | null>;

  constructor(
    @Inject(IMAGE_TABLE) private readonly table: ImageTable,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
    private readonly pool: PoolCacheService,
    private readonly near: NearCacheService,
    private readonly config: AppConfig,
  ) {
    // The fetch itself has the storage deadline (GuardedBlobStore); this one also bounds the
    // readers waiting on it, and forgets a fetch that somehow never settles, so no object can
    // stay wedged for later readers.
    const { storageTimeoutMs, retryAfterSeconds } = config.resilience;
    this.blobFetches = new SingleFlight<Buffer | null>({
      deadlineMs: storageTimeoutMs,
      onDeadline: (name) =>
        new DependencyUnavailableError(
          'storage',
          `shared fetch of ${name}: no answer within ${storageTimeoutMs} ms`,
          retryAfterSeconds,
        ),
    });
  }

  /**
   * Near cache (L1) first; then through the owner node; on a miss, from storage, and the owner is
   * filled. A hit whose type is not one an upload can have (a node written to by something other
   * than this app) is not served: storage answers instead. Only what passed that check may enter L1.
   */
  async read(key: string): Promise<StoredImage | null> {
    const near = this.near.lookup(key);
    if (near) {
      const { body, contentType, version } = near;
      return { key, body, contentType, version, source: 'cache' };
    }
    const ticket = this.near.ticket(key);
    const { image, nearSafe } = await this.checkedPoolRead(key);
    if (ticket && image && nearSafe) this.near.offer(ticket, image);
    return image;
  }

  private async checkedPoolRead(key: string): Promise<PoolRead> {
    const read = await this.pool.readForNear(key, (k) => this.readFromStorage(k));
    const { image } = read;
    if (image?.source !== 'cache' || IMAGE_TYPES.has(image.contentType)) return read;
    this.logger.warn(
      `cached copy of ${JSON.stringify(key)} has type ${JSON.stringify(image.contentType)}, ` +
        'not an image type: read from storage',
    );
    return { image: (await this.readFromStorage(key)).image, nearSafe: false };
  }

  /** Called after an upload of `key` committed `version`: no cached copy older than it may be served. */
  async invalidate(key: string, version: number): Promise<void> {
    this.near.dropLocal(key);
    const before = this.near.stateBefore();
    try {
      // The nodes leave this front-end out of the push of its own invalidation...
      await this.pool.invalidate(key, version, this.near.id);
    } finally {
      // ...so it does now what that push does: drop the copy and refuse fills begun before.
      this.near.dropLocal(key);
    }
    await this.near.afterInvalidation(before);
  }

  /** `deletedBelow`: a data clear's version (PoolCacheService.clear). */
  async clearCache(deletedBelow?: number): Promise<void> {
    this.near.clearLocal();
    const before = this.near.stateBefore();
    await this.pool.clear(deletedBelow);
    this.near.clearLocal();
    // A node that could not be cleared was quarantined: the same wait as an upload's (step C).
    await this.near.afterInvalidation(before);
  }

  /**
   * Row then blob. Every reader reads the row itself (a primary-key lookup), so it sees every
   * upload acknowledged before it arrived; concurrent readers of the same object share one blob
   * fetch, which is always safe because an object name is never reused for other bytes.
   * An overwrite that commits between row and blob deletes the blob we were about to read; the
   * row we would read now names the new one, so look again, as long as each row names a newer
   * object: under a key overwritten faster than storage answers (the nemesis's hot keys behind
   * slow storage lost three such races in a row once), a fixed number of tries would answer 404
   * for an image that exists. A row that names the same missing object again means the object is
   * gone (a clear racing this read, or removed behind our back): nothing. Overwrites that keep
   * winning past the storage deadline: 503, retry.
   */
  async readFromStorage(key: string): Promise<StorageLoad> {
    const { storageTimeoutMs, retryAfterSeconds } = this.config.resilience;
    const deadline = Date.now() + storageTimeoutMs;
    let missing: string | undefined;
    for (;;) {
      const row = await this.table.find(key);
      if (!row) return { image: null, leader: false };
      if (row.objectName === missing) {
        this.logger.warn(`key ${JSON.stringify(key)} has a row but its object is missing`);
        return { image: null, leader: false };
      }
      let leader = false;
      const body = await this.blobFetches.run(row.objectName, () => {
        leader = true;
        return this.blobs.get(row.objectName);
      });
      if (body) {
        const { contentType, version } = row;
        return { image: { key, body, contentType, version, source: 'storage' }, leader };
      }
      missing = row.objectName;
      if (Date.now() >= deadline)
        throw new ServiceBusyError(
          `${JSON.stringify(key)} was overwritten under every read of it for ${storageTimeoutMs} ms; retry`,
          retryAfterSeconds,
        );
    }
  }
}
