import { Global, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { BLOB_STORE } from './blob-store';
import { createGuardedBlobStore } from './blob-store.factory';
import { GuardedBlobStore } from './guarded-blob-store';

/** Provides BLOB_STORE to every module: the adapter storage.driver names, behind its guard. */
@Global()
@Module({
  providers: [
    {
      provide: BLOB_STORE,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => createGuardedBlobStore(config.storage, config.resilience),
    },
    // The same instance under its class, for what reads its breaker state (metrics).
    { provide: GuardedBlobStore, useExisting: BLOB_STORE },
  ],
  exports: [BLOB_STORE, GuardedBlobStore],
})
export class StorageModule {}
