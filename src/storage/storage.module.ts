import { Global, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { BLOB_STORE } from './blob-store';
import { createBlobStore } from './blob-store.factory';

/** Provides BLOB_STORE to every module, with the adapter storage.driver names. */
@Global()
@Module({
  providers: [
    {
      provide: BLOB_STORE,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => createBlobStore(config.storage),
    },
  ],
  exports: [BLOB_STORE],
})
export class StorageModule {}
