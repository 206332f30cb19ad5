import { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { StorageConfig } from '../config/app-config';

/**
 * The S3 client of the s3 driver. Credentials come from the SDK's default chain (environment,
 * shared files, instance role), never from pixpool's config; `extra` lets tests pass their own.
 */
export function createS3Client(
  config: Pick<StorageConfig, 'region' | 'endpoint' | 'forcePathStyle'>,
  extra: Partial<S3ClientConfig> = {},
): S3Client {
  return new S3Client({
    region: config.region,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    forcePathStyle: config.forcePathStyle,
    ...extra,
  });
}
