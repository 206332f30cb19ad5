import { Injectable } from '@nestjs/common';
import { ImageService } from '../frontend/image.service';
import { PoolCacheService } from '../pool/pool-cache.service';

/** The destructive buttons: drop every cached copy, or delete every image, row and cached copy. */
@Injectable()
export class ManagerDataService {
  constructor(
    private readonly images: ImageService,
    private readonly cache: PoolCacheService,
  ) {}

  clearCache(): Promise<void> {
    return this.cache.clear();
  }

  deleteAll(): Promise<void> {
    return this.images.clearData();
  }
}
