import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../../../src/config/config-loader';
import { openDataSource } from '../../../src/database/data-source.factory';
import { runMigrateCommand } from '../../../src/database/migrate.command';
import { createTestMysqlDatabase, describeWithMysql } from '../../support/mysql';
import { MIGRATIONS } from '../../../migrations';

const NAMES = MIGRATIONS.map((m) => m.name);
const LAST = NAMES[NAMES.length - 1];

async function migrate(env: Record<string, string>, ...args: string[]): Promise<string[]> {
  const lines: string[] = [];
  await runMigrateCommand(args, env, (line) => lines.push(line));
  return lines;
}

describe('migrate command on SQLite', () => {
  let dir: string;
  let env: Record<string, string>;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixpool-migrate-'));
    env = { PIXPOOL_DATABASE_FILE: path.join(dir, 'pixpool.sqlite') };
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function hasImagesTable(): Promise<boolean> {
    const config = loadConfig({ env }).database;
    const dataSource = await openDataSource({ ...config, migrationsRun: false });
    try {
      return await dataSource.createQueryRunner().hasTable('images');
    } finally {
      await dataSource.destroy();
    }
  }

  it('runs pending migrations, then reports there are none', async () => {
    expect(await migrate(env)).toEqual([
      `database: SQLite file ${env.PIXPOOL_DATABASE_FILE}`,
      ...NAMES.map((name) => `migrated ${name}`),
    ]);
    expect(await hasImagesTable()).toBe(true);
    expect(await migrate(env)).toContain('up to date: no pending migration');
  });

  it('reverts the last migration with --revert, and says when there is nothing left', async () => {
    await migrate(env);
    expect(await migrate(env, '--revert')).toContain(`reverted ${LAST}`);
    expect(await hasImagesTable()).toBe(true);
    for (const name of [...NAMES].reverse().slice(1)) {
      expect(await migrate(env, '--revert')).toContain(`reverted ${name}`);
    }
    expect(await hasImagesTable()).toBe(false);
    expect(await migrate(env, '--revert')).toContain('nothing to revert: no migration has run');
  });

  it('refuses an unknown argument with the usage', async () => {
    await expect(migrate(env, '--down')).rejects.toThrow(/unknown argument --down\nusage: migrate/);
  });

  it('refuses a bad config naming the field', async () => {
    await expect(migrate({ PIXPOOL_DATABASE_DRIVER: 'postgres' })).rejects.toThrow(
      /database\.driver/,
    );
  });
});

describeWithMysql('migrate command on MariaDB/MySQL', () => {
  it('migrates and reverts the database of PIXPOOL_DATABASE_URL', async () => {
    const db = await createTestMysqlDatabase();
    try {
      expect(await migrate(db.env)).toContain(`migrated ${LAST}`);
      for (const name of [...NAMES].reverse()) {
        expect(await migrate(db.env, '--revert')).toContain(`reverted ${name}`);
      }
    } finally {
      await db.drop();
    }
  });
});
