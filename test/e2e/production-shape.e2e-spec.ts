import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { AppProcess, startApp } from '../support/app-process';
import { makePng } from '../support/images';
import { postJson, upload } from '../support/http';
import { createTestMysqlDatabase, describeWithMysql, TestMysqlDatabase } from '../support/mysql';
import { S3TestServer, startS3rver } from '../support/s3rver';

/** The app as deployed: the key table on MySQL (MariaDB here) and images in an S3 bucket (s3rver). */
describeWithMysql('the app on MariaDB and an S3-protocol server', () => {
  let db: TestMysqlDatabase;
  let s3: S3TestServer;
  let app: AppProcess;

  beforeAll(async () => {
    [db, s3] = await Promise.all([createTestMysqlDatabase(), startS3rver()]);
    app = await startApp({ env: { ...db.env, ...s3.env } });
  }, 60_000);
  afterAll(async () => {
    await app?.stop();
    await Promise.all([db?.drop(), s3?.stop()]);
  });

  it('uploads, overwrites, reads, survives a restart and clears, with objects in the bucket', async () => {
    const first = makePng(4000);
    const second = makePng(6000);
    expect((await upload(app.url, 'photo', first)).body).toEqual({ success: 'true', key: 'photo' });
    expect((await upload(app.url, 'photo', second)).status).toBe(200);
    expect((await upload(app.url, 'другой', first)).status).toBe(200);

    const listed = await s3.client().send(new ListObjectsV2Command({ Bucket: s3.bucket }));
    expect(listed.Contents ?? []).toHaveLength(2); // the overwritten object was deleted

    await app.restart();
    expect((await postJson(`${app.url}/api/list_keys`)).body).toEqual({
      success: 'true',
      keys: ['photo', 'другой'],
    });
    const raw = await fetch(`${app.url}/images/photo`);
    expect(Buffer.from(await raw.arrayBuffer()).equals(second)).toBe(true);
    const health = await fetch(`${app.url}/health`);
    expect(health.status).toBe(200);

    expect((await fetch(`${app.url}/api/clear/data`, { method: 'DELETE' })).status).toBe(200);
    expect(
      (await s3.client().send(new ListObjectsV2Command({ Bucket: s3.bucket }))).Contents ?? [],
    ).toHaveLength(0);
    expect((await postJson(`${app.url}/api/key/photo`)).status).toBe(404);
  }, 60_000);
});
