import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { createConnection } from 'mysql2/promise';
import { randomBytes } from 'node:crypto';

/*
 * deploy/scripts/grant-db-user.js on a real MariaDB (PIXPOOL_TEST_MYSQL_URL): the app's own user
 * can do what the migrations and queries do on the app's database, nothing on another, and a
 * second run with a new password (a rotation) replaces the old one. Without the URL the suite is
 * skipped, except under CI=true, where it fails.
 */
const ROOT = path.resolve(__dirname, '..', '..', '..');
const url = process.env.PIXPOOL_TEST_MYSQL_URL;
if (!url && process.env.CI === 'true') throw new Error('PIXPOOL_TEST_MYSQL_URL is required (CI)');

(url ? describe : describe.skip)('grant-db-user.js', () => {
  const server = new URL(url ?? 'mysql://localhost');
  const suffix = randomBytes(3).toString('hex');
  const database = `pixpool_grant_${suffix}`;
  const other = `pixpool_other_${suffix}`;
  const appUser = `pixpool_app_${suffix}`;
  const master = {
    host: server.hostname,
    port: Number(server.port || 3306),
    user: decodeURIComponent(server.username),
    password: decodeURIComponent(server.password),
  };

  const grant = (password: string) =>
    spawnSync(process.execPath, [path.join(ROOT, 'deploy', 'scripts', 'grant-db-user.js')], {
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH,
        PIXPOOL_APP_DIR: ROOT,
        DB_HOST: master.host,
        DB_PORT: String(master.port),
        DB_NAME: database,
        MASTER_USER: master.user,
        MASTER_PASSWORD: master.password,
        APP_USER: appUser,
        APP_PASSWORD: password,
        DB_TLS: 'off',
      },
    });
  const asApp = (password: string) =>
    createConnection({ host: master.host, port: master.port, user: appUser, password, database });

  beforeAll(async () => {
    const root = await createConnection(master);
    await root.query(`CREATE DATABASE \`${database}\``);
    await root.query(`CREATE DATABASE \`${other}\``);
    await root.end();
  });
  afterAll(async () => {
    const root = await createConnection(master);
    await root.query(`DROP DATABASE IF EXISTS \`${database}\``);
    await root.query(`DROP DATABASE IF EXISTS \`${other}\``);
    await root.query(`DROP USER IF EXISTS '${appUser}'@'%'`);
    await root.end();
  });

  it('the app user migrates and queries its database, and touches no other', async () => {
    expect(grant('first-password-1')).toMatchObject({ status: 0, stderr: '' });
    const app = await asApp('first-password-1');
    try {
      await app.query('CREATE TABLE t (k VARCHAR(10) PRIMARY KEY, v INT)');
      await app.query('ALTER TABLE t ADD COLUMN w INT, ADD INDEX by_v (v)');
      await app.query("INSERT INTO t (k, v) VALUES ('a', 1)");
      await app.query("UPDATE t SET v = 2 WHERE k = 'a'");
      expect((await app.query('SELECT v FROM t'))[0]).toEqual([{ v: 2 }]);
      await app.query('DELETE FROM t');
      await app.query('DROP TABLE t');
      await expect(app.query(`CREATE TABLE \`${other}\`.t (k INT)`)).rejects.toThrow(/denied/);
      await expect(app.query('CREATE USER x IDENTIFIED BY "y"')).rejects.toThrow(/denied/);
    } finally {
      await app.end();
    }
  });

  it('a second run with a new password (rotation) replaces the old one', async () => {
    expect(grant('second-password-2')).toMatchObject({ status: 0 });
    await expect(asApp('first-password-1')).rejects.toThrow(/denied/);
    const app = await asApp('second-password-2');
    await app.end();
  });
});
