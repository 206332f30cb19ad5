import { Module } from '@nestjs/common';
import { PoolModule } from '../pool/pool.module';
import { NearCacheService } from './near-cache.service';

@Module({
  imports: [PoolModule],
  providers: [NearCacheService],
  exports: [NearCacheService],
})
export class NearCacheModule {}
