import { Test } from '@nestjs/testing';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../../../src/config/config-loader';
import { ConfigModule } from '../../../src/config/config.module';
import { BLOB_STORE, BlobStore } from '../../../src/storage/blob-store';
import { newObjectName } from '../../../src/storage/object-name';
import { StorageModule } from '../../../src/storage/storage.module';
import { S3TestServer, startS3rver } from '../../support/s3rver';

async function storeFor(env: Record<string, string>): Promise<BlobStore> {
  const moduleRef = await Test.createTestingModule({
    imports: [ConfigModule.forRoot(loadConfig({ env })), StorageModule],
  }).compile();
  return moduleRef.get<BlobStore>(BLOB_STORE);
}

async function roundTrip(store: BlobStore): Promise<string | undefined> {
  const name = newObjectName();
  await store.put(name, Buffer.from('hello'), 'image/png');
  return (await store.get(name))?.toString();
}

describe('StorageModule', () => {
  let dir: string;
  let s3: S3TestServer;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixpool-storage-module-'));
    s3 = await startS3rver();
  });
  afterAll(async () => {
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    await s3.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('stores files in storage.dir with the fs driver', async () => {
    const blobs = path.join(dir, 'blobs');
    const store = await storeFor({ PIXPOOL_STORAGE_DIR: blobs });
    expect(await roundTrip(store)).toBe('hello');
    expect(fs.readdirSync(blobs)).toHaveLength(1);
  });

  it('stores objects in the configured bucket with the s3 driver and default credentials', async () => {
    // The module's client takes credentials from the SDK's default chain: here, the environment.
    process.env.AWS_ACCESS_KEY_ID = s3.env.AWS_ACCESS_KEY_ID;
    process.env.AWS_SECRET_ACCESS_KEY = s3.env.AWS_SECRET_ACCESS_KEY;
    const store = await storeFor({ ...s3.env, PIXPOOL_STORAGE_PREFIX: 'module/' });
    await expect(store.ping()).resolves.toBeUndefined();
    expect(await roundTrip(store)).toBe('hello');
    const listed: string[] = [];
    for await (const page of store.list()) listed.push(...page.map((o) => o.name));
    expect(listed).toHaveLength(1);
  });
});
