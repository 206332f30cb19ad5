import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { newObjectName } from '../../../src/storage/object-name';
import { S3BlobStore } from '../../../src/storage/s3-blob-store';
import { S3TestServer, startS3rver } from '../../support/s3rver';
import { behavesLikeABlobStore } from './blob-store.contract';

let server: S3TestServer;
let client: S3Client;
beforeAll(async () => {
  server = await startS3rver();
  client = server.client();
});
afterAll(() => server.stop());

/** Each store gets its own prefix, so tests share the bucket without seeing each other. */
function freshPrefix(): string {
  return `t${randomBytes(4).toString('hex')}/`;
}
function storeWithFreshPrefix(batchSize?: number): S3BlobStore {
  return new S3BlobStore(client, { bucket: server.bucket, prefix: freshPrefix(), batchSize });
}

async function keysUnder(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: server.bucket, Prefix: prefix, ContinuationToken: token }),
    );
    keys.push(...(page.Contents ?? []).map((o) => o.Key as string));
    token = page.NextContinuationToken;
  } while (token);
  return keys.sort();
}

describe('S3BlobStore against s3rver', () => {
  behavesLikeABlobStore(async () => storeWithFreshPrefix());

  it('stores each object under prefix + name', async () => {
    const sut = new S3BlobStore(client, { bucket: server.bucket, prefix: 'layout/' });
    const name = newObjectName();
    await sut.put(name, Buffer.from('x'), 'image/png');
    expect(await keysUnder('layout/')).toEqual([`layout/${name}`]);
  });

  it('deleteMany deletes under its own prefix only', async () => {
    const mine = storeWithFreshPrefix();
    const neighbour = storeWithFreshPrefix();
    const name = newObjectName();
    await neighbour.put(name, Buffer.from('n'), 'image/png');
    await mine.put(name, Buffer.from('m'), 'image/png');

    await mine.deleteMany([name]);
    expect(await mine.get(name)).toBeNull();
    expect((await neighbour.get(name))?.toString()).toBe('n');
  });

  it('deleteMany deletes in batches of batchSize', async () => {
    const sut = storeWithFreshPrefix(7);
    const names = Array.from({ length: 30 }, () => newObjectName());
    await Promise.all(names.map((n) => sut.put(n, Buffer.from(n), 'image/png')));
    await sut.deleteMany(names);
    for (const n of names) expect(await sut.get(n)).toBeNull();
  });

  it('deleteMany gets past the 1000 keys S3 takes in one DeleteObjects call', async () => {
    const sut = storeWithFreshPrefix();
    const names = Array.from({ length: 1100 }, () => newObjectName());
    for (let i = 0; i < names.length; i += 50) {
      await Promise.all(
        names.slice(i, i + 50).map((n) => sut.put(n, Buffer.from('x'), 'image/png')),
      );
    }
    await sut.deleteMany(names);
    expect(await sut.get(names[0])).toBeNull();
    expect(await sut.get(names[1099])).toBeNull();
  }, 60000);

  it('fails ping naming the bucket when the bucket does not exist', async () => {
    const sut = new S3BlobStore(client, { bucket: 'no-such-bucket', prefix: '' });
    await expect(sut.ping()).rejects.toThrow(/S3 bucket "no-such-bucket" is not reachable: .*404/);
  });

  it('throws, instead of saying "missing", when the bucket is gone', async () => {
    const sut = new S3BlobStore(client, { bucket: 'no-such-bucket', prefix: '' });
    await expect(sut.get(newObjectName())).rejects.toThrow(/NoSuchBucket/);
  });

  it('fails ping when the server does not answer', async () => {
    const down = await startS3rver();
    const downClient = down.client();
    await down.stop();
    const sut = new S3BlobStore(downClient, { bucket: down.bucket, prefix: '' });
    await expect(sut.ping()).rejects.toThrow(
      /S3 bucket "pixpool-test" is not reachable: .*ECONNREFUSED/,
    );
  });
});
