import * as path from 'node:path';
import { StorageConfig } from '../config/app-config';
import { BlobStore } from './blob-store';
import { FsBlobStore } from './fs-blob-store';
import { S3BlobStore } from './s3-blob-store';
import { createS3Client } from './s3-client.factory';

/** The adapter named by storage.driver; a relative fs dir is taken from `cwd`. */
export function createBlobStore(config: StorageConfig, cwd: string = process.cwd()): BlobStore {
  switch (config.driver) {
    case 'fs':
      return new FsBlobStore(path.resolve(cwd, config.dir));
    case 's3':
      return new S3BlobStore(createS3Client(config), {
        bucket: config.bucket,
        prefix: config.prefix,
      });
  }
}
