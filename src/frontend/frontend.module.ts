import { Module } from '@nestjs/common';
import { MulterModule } from '@nestjs/platform-express';
import { memoryStorage } from 'multer';
import type { Registry } from 'prom-client';
import { AppConfig } from '../config/app-config';
import { CourseApiController } from './course-api.controller';
import { ImagesController } from './images.controller';
import { PresetsController } from './presets.controller';
import { PagesController } from './pages.controller';
import { ImageService } from './image.service';
import { ClearDataService } from './clear-data.service';
import { ReadPathService } from './read-path.service';
import { NotifyController } from './notify.controller';
import { ImageFastPath } from './image-fast-path';
import { WriteFence } from './write-fence';
import { UploadSlotsInterceptor } from './upload-slots.interceptor';
import { RateLimitGuard } from '../common/rate-limit/rate-limit.guard';
import { StorageQuota } from './storage-quota';
import { PoolModule } from '../pool/pool.module';
import { NearCacheModule } from '../near-cache/near-cache.module';
import { OutboxModule } from '../coordination/outbox.module';
import { ResponseBudget } from '../common/response-budget';
import { PROMETHEUS_REGISTRY } from '../metrics/prometheus/prometheus-registry';
import { registerResponseBudgetGauges } from '../metrics/prometheus/response-budget-gauges';
import { ImagingModule } from '../imaging/imaging.module';
import { ImageUrlService } from './image-url.service';
import { VariantCacheService } from './variant-cache.service';

@Module({
  imports: [
    PoolModule,
    NearCacheModule,
    OutboxModule,
    ImagingModule,
    MulterModule.registerAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        storage: memoryStorage(),
        // Tight limits: one file, a couple of small fields; anything else is a malformed upload.
        limits: {
          fileSize: config.server.uploadLimitBytes,
          files: 1,
          fields: 4,
          fieldSize: 64 * 1024,
          parts: 8,
        },
      }),
    }),
  ],
  controllers: [
    CourseApiController,
    ImagesController,
    PresetsController,
    PagesController,
    NotifyController,
  ],
  // One UploadSlotsInterceptor and one RateLimitGuard for the module, so their counts are the app's.
  providers: [
    ImageService,
    ClearDataService,
    ReadPathService,
    WriteFence,
    ImageFastPath,
    UploadSlotsInterceptor,
    RateLimitGuard,
    StorageQuota,
    ImageUrlService,
    VariantCacheService,
    {
      // One budget for the app: its total is what every slow reader holds together.
      provide: ResponseBudget,
      inject: [AppConfig, PROMETHEUS_REGISTRY],
      useFactory: (config: AppConfig, registry: Registry) =>
        registerResponseBudgetGauges(registry, new ResponseBudget(config.limits)),
    },
  ],
  exports: [ImageService, ClearDataService, ReadPathService, ImageFastPath],
})
export class FrontendModule {}
