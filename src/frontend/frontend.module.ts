import { Module } from '@nestjs/common';
import { MulterModule } from '@nestjs/platform-express';
import { memoryStorage } from 'multer';
import { AppConfig } from '../config/app-config';
import { CourseApiController } from './course-api.controller';
import { ImagesController } from './images.controller';
import { PresetsController } from './presets.controller';
import { PagesController } from './pages.controller';
import { ImageService } from './image.service';
import { ReadPathService } from './read-path.service';
import { NotifyController } from './notify.controller';
import { ImageFastPath } from './image-fast-path';
import { UploadSlotsInterceptor } from './upload-slots.interceptor';
import { PoolModule } from '../pool/pool.module';
import { NearCacheModule } from '../near-cache/near-cache.module';
import { OutboxModule } from '../coordination/outbox.module';
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
  // One UploadSlotsInterceptor for the module, so its count is the app's.
  providers: [
    ImageService,
    ReadPathService,
    ImageFastPath,
    UploadSlotsInterceptor,
    ImageUrlService,
    VariantCacheService,
  ],
  exports: [ImageService, ReadPathService, ImageFastPath],
})
export class FrontendModule {}
