import { Module } from '@nestjs/common';
import { PoolModule } from '../pool/pool.module';
import { NearCacheController } from './near-cache.controller';
import { NearCacheService } from './near-cache.service';

@Module({
  imports: [PoolModule],
  controllers: [NearCacheController],
  providers: [NearCacheService],
  exports: [NearCacheService],
})
export class NearCacheModule {}
