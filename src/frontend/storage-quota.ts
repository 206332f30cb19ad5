import { HttpException, HttpStatus, Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { IMAGE_TABLE, ImageTable } from '../database/image-table';

/**
 * storage.quotaBytes bounds the bytes of all stored images: an upload that would pass it is
 * refused with 507 Insufficient Storage (the server cannot store it; 413 would blame the request,
 * which is within the upload limit) before its blob is written. Replacing a key counts only the
 * difference. The check reads the table's total, so concurrent uploads may each pass it: the total
 * can exceed the quota by at most limits.maxConcurrentUploads × server.uploadLimitBytes, a bounded
 * overshoot (README, "running on a network").
 */
@Injectable()
export class StorageQuota {
  constructor(
    private readonly config: AppConfig,
    @Inject(IMAGE_TABLE) private readonly table: ImageTable,
  ) {}

  async assertRoomFor(key: string, bytes: number): Promise<void> {
    const quota = this.config.storage.quotaBytes;
    if (quota === 0) return;
    const [used, current] = await Promise.all([this.table.totalBytes(), this.table.find(key)]);
    const after = used - (current?.byteSize ?? 0) + bytes;
    if (after <= quota) return;
    throw new HttpException(
      `storage quota reached: ${used} of ${quota} bytes used, this image needs ${bytes} ` +
        '(storage.quotaBytes); delete images or raise the quota',
      HttpStatus.INSUFFICIENT_STORAGE,
    );
  }
}
