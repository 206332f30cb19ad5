import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { BlobStore, StoredObject } from './blob-store';
import { assertValidObjectName, isValidObjectName } from './object-name';

export interface S3BlobStoreOptions {
  bucket: string;
  /** Prepended to every object name, e.g. "pixpool/". */
  prefix: string;
  /** Keys per ListObjectsV2 page and per DeleteObjects call; S3 allows at most 1000. */
  batchSize?: number;
}

/** S3's own cap on DeleteObjects and on a ListObjectsV2 page. */
export const S3_MAX_BATCH = 1000;

/** Objects in an S3 bucket (or an S3-compatible server) under key = prefix + name. */
export class S3BlobStore implements BlobStore {
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly batchSize: number;

  constructor(
    private readonly client: S3Client,
    options: S3BlobStoreOptions,
  ) {
    this.bucket = options.bucket;
    this.prefix = options.prefix;
    this.batchSize = Math.min(options.batchSize ?? S3_MAX_BATCH, S3_MAX_BATCH);
  }

  async put(name: string, body: Buffer, contentType: string, signal?: AbortSignal): Promise<void> {
    const Key = this.keyOf(name);
    await this.send('put', Key, () =>
      this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key, Body: body, ContentType: contentType }),
        { abortSignal: signal },
      ),
    );
  }

  async get(name: string, signal?: AbortSignal): Promise<Buffer | null> {
    const Key = this.keyOf(name);
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key }), {
        abortSignal: signal,
      });
      if (!out.Body) return Buffer.alloc(0);
      return Buffer.from(await out.Body.transformToByteArray());
    } catch (err) {
      if (isMissingObject(err)) return null;
      throw this.failure('get', Key, err);
    }
  }

  async delete(name: string, signal?: AbortSignal): Promise<void> {
    const Key = this.keyOf(name);
    await this.send('delete', Key, () =>
      this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }), {
        abortSignal: signal,
      }),
    );
  }

  /**
   * Pages through the prefix. Only keys that are prefix + a valid object name count: with an
   * empty prefix in a shared bucket, other data is never listed, swept or cleared.
   */
  async *list(namePrefix = ''): AsyncIterable<StoredObject[]> {
    const keyPrefix = this.prefix + namePrefix;
    let token: string | undefined;
    do {
      const page = await this.send('list', keyPrefix, () =>
        this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: keyPrefix || undefined,
            ContinuationToken: token,
            MaxKeys: this.batchSize,
          }),
        ),
      );
      const objects: StoredObject[] = [];
      for (const o of page.Contents ?? []) {
        const key = o.Key ?? '';
        const name = key.slice(this.prefix.length);
        if (key.startsWith(this.prefix) && isValidObjectName(name)) {
          objects.push({ name, modifiedAt: o.LastModified ?? new Date(0) });
        }
      }
      yield objects;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /** One DeleteObjects call per batchSize names. */
  async deleteMany(names: readonly string[]): Promise<void> {
    const keys = names.map((name) => this.keyOf(name));
    for (let i = 0; i < keys.length; i += this.batchSize) {
      await this.deleteBatch(keys.slice(i, i + this.batchSize));
    }
  }

  async ping(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      throw new Error(`blob store: S3 bucket "${this.bucket}" is not reachable: ${describe(err)}`, {
        cause: err,
      });
    }
  }

  private async deleteBatch(keys: string[]): Promise<void> {
    const out = await this.send('delete batch', keys[0], () =>
      this.client.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: false },
        }),
      ),
    );
    const failed = out.Errors ?? [];
    if (failed.length > 0) {
      const first = failed[0];
      throw new Error(
        `blob store: S3 refused to delete ${failed.length} of ${keys.length} objects in ` +
          `"${this.bucket}", first ${first.Key}: ${first.Code} ${first.Message}`,
      );
    }
  }

  private keyOf(name: string): string {
    assertValidObjectName(name);
    return this.prefix + name;
  }

  private async send<T>(action: string, key: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw this.failure(action, key, err);
    }
  }

  private failure(action: string, key: string, err: unknown): Error {
    return new Error(
      `blob store: S3 ${action} of "${this.bucket}/${key}" failed: ${describe(err)}`,
      {
        cause: err,
      },
    );
  }
}

/** A missing object, not a missing bucket: that one is a setup error and must be loud. */
function isMissingObject(err: unknown): boolean {
  if (!(err instanceof S3ServiceException)) return false;
  if (err.name === 'NoSuchKey') return true;
  return err.$metadata?.httpStatusCode === 404 && err.name !== 'NoSuchBucket';
}

/** SDK errors of bodiless replies (HEAD) carry only a name and a status; say both. */
function describe(err: unknown): string {
  if (err instanceof S3ServiceException) {
    const status = err.$metadata?.httpStatusCode;
    const text = err.message && err.message !== 'UnknownError' ? `: ${err.message}` : '';
    return `${err.name}${status ? ` (HTTP ${status})` : ''}${text}`;
  }
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
