import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Module } from '@nestjs/common';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { loadConfig } from '../../../src/config/config-loader';
import { ConfigModule } from '../../../src/config/config.module';
import { DatabaseModule } from '../../../src/database/database.module';
import { IMAGE_TABLE, ImageTable } from '../../../src/database/image-table';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixpool-db-module-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

async function boot(env: Record<string, string>): Promise<INestApplicationContext> {
  @Module({ imports: [ConfigModule.forRoot(loadConfig({ env })), DatabaseModule] })
  class TestAppModule {}
  return NestFactory.createApplicationContext(TestAppModule, {
    logger: false,
    abortOnError: false,
  });
}

const image = {
  key: 'k',
  objectName: '0123456789abcdef0123456789abcdef',
  contentType: 'image/png',
  byteSize: 3,
  checksum: 'ab'.repeat(32),
};

describe('DatabaseModule', () => {
  it('opens the configured SQLite file, migrates it, and serves IMAGE_TABLE', async () => {
    const file = path.join(dir, 'data', 'pixpool.sqlite');
    const app = await boot({ PIXPOOL_DATABASE_FILE: file });
    await app.get<ImageTable>(IMAGE_TABLE).upsert(image);
    await app.close();

    const again = await boot({ PIXPOOL_DATABASE_FILE: file });
    expect(await again.get<ImageTable>(IMAGE_TABLE).listKeys()).toEqual(['k']);
    await again.close();
  });

  it('closes the DataSource when the app shuts down', async () => {
    const app = await boot({ PIXPOOL_DATABASE_FILE: path.join(dir, 'pixpool.sqlite') });
    const dataSource = app.get(DataSource);
    expect(dataSource.isInitialized).toBe(true);
    await app.close();
    expect(dataSource.isInitialized).toBe(false);
  });

  it('leaves the schema alone when migrationsRun is false', async () => {
    const app = await boot({
      PIXPOOL_DATABASE_FILE: path.join(dir, 'pixpool.sqlite'),
      PIXPOOL_DATABASE_MIGRATIONS_RUN: 'false',
    });
    // Matched by message, not toThrow: better-sqlite3's native binding keeps the SqliteError class
    // of the first test file that loaded it in this Jest worker, so instanceof Error can fail here.
    await expect(app.get<ImageTable>(IMAGE_TABLE).count()).rejects.toMatchObject({
      message: expect.stringMatching(/no such table: images/),
    });
    await app.close();
  });

  it('refuses to start with a message naming the database it could not open', async () => {
    await expect(
      boot({
        PIXPOOL_DATABASE_DRIVER: 'mysql',
        PIXPOOL_DATABASE_HOST: '127.0.0.1',
        PIXPOOL_DATABASE_PORT: '1',
      }),
    ).rejects.toThrow('database: cannot open MySQL root@127.0.0.1:1/pixpool');
  });
});
