import { Injectable } from '@nestjs/common';
import { ClearDataService } from '../frontend/clear-data.service';
import { PoolCacheService } from '../pool/pool-cache.service';

/** The destructive buttons: drop every cached copy, or delete every image, row and cached copy. */
@Injectable()
export class ManagerDataService {
  constructor(
    private readonly data: ClearDataService,
    private readonly cache: PoolCacheService,
  ) {}

  clearCache(): Promise<void> {
    return this.cache.clear();
  }

  deleteAll(): Promise<void> {
    return this.data.clearData();
  }
}
