import * as path from 'node:path';
import { ResilienceConfig, StorageConfig } from '../config/app-config';
import { DependencyGuard } from '../common/dependency-guard';
import { BlobStore } from './blob-store';
import { FsBlobStore } from './fs-blob-store';
import { GuardedBlobStore } from './guarded-blob-store';
import { S3BlobStore } from './s3-blob-store';
import { createS3Client } from './s3-client.factory';
import { isStorageOutage } from './storage-outage';

/** The adapter named by storage.driver; a relative fs dir is taken from `cwd`. */
export function createBlobStore(
  config: StorageConfig,
  cwd: string = process.cwd(),
  resilience?: ResilienceConfig,
): BlobStore {
  switch (config.driver) {
    case 'fs':
      return new FsBlobStore(path.resolve(cwd, config.dir));
    case 's3':
      return new S3BlobStore(createS3Client(config, s3Timeouts(resilience)), {
        bucket: config.bucket,
        prefix: config.prefix,
      });
  }
}

/** The store the app injects: the adapter behind the storage deadline and breaker. */
export function createGuardedBlobStore(
  config: StorageConfig,
  resilience: ResilienceConfig,
): GuardedBlobStore {
  return new GuardedBlobStore(
    createBlobStore(config, process.cwd(), resilience),
    new DependencyGuard({
      dependency: 'storage',
      timeoutMs: resilience.storageTimeoutMs,
      retryAfterSeconds: resilience.retryAfterSeconds,
      breakerThreshold: resilience.breakerThreshold,
      breakerOpenMs: resilience.breakerOpenMs,
      isOutage: isStorageOutage,
    }),
  );
}

/**
 * Socket deadlines inside the SDK as well as the guard's: connect, then no byte for
 * storageTimeoutMs, ends the attempt and frees the socket even if nobody aborts. Two attempts,
 * so a request on a keep-alive socket the server just closed is retried once, but a dead store
 * is not hammered (the guard's deadline bounds both together anyway).
 */
function s3Timeouts(resilience?: ResilienceConfig) {
  if (!resilience) return {};
  return {
    maxAttempts: 2,
    requestHandler: {
      connectionTimeout: resilience.storageConnectTimeoutMs,
      requestTimeout: resilience.storageTimeoutMs,
    },
  };
}
