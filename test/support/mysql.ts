import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createConnection } from 'mysql2/promise';
import { DatabaseConfig } from '../../src/config/app-config';
import { loadConfig } from '../../src/config/config-loader';

/** Server the MySQL suites use; its database part is only where throw-away databases are made from. */
export const TEST_MYSQL_URL =
  process.env.PIXPOOL_TEST_MYSQL_URL || 'mysql://root@127.0.0.1:3306/test';

export interface TestMysqlDatabase {
  /** pixpool_t_<random> */
  name: string;
  /** TEST_MYSQL_URL pointed at this database. */
  url: string;
  /** PIXPOOL_DATABASE_* variables that point the app at this database. */
  env: Record<string, string>;
  /** The validated database section for this database, as the app would load it. */
  config(overrides?: Partial<DatabaseConfig>): DatabaseConfig;
  drop(): Promise<void>;
}

/**
 * A fresh, empty utf8mb4 database of its own, so parallel suites and reruns never meet. Drop it
 * in afterAll.
 */
export async function createTestMysqlDatabase(): Promise<TestMysqlDatabase> {
  const name = `pixpool_t_${randomBytes(5).toString('hex')}`;
  await admin(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  const url = new URL(TEST_MYSQL_URL);
  url.pathname = `/${name}`;
  const env = { PIXPOOL_DATABASE_DRIVER: 'mysql', PIXPOOL_DATABASE_URL: url.toString() };
  return {
    name,
    url: url.toString(),
    env,
    config: (overrides = {}) => ({ ...loadConfig({ env }).database, ...overrides }),
    drop: () => admin(`DROP DATABASE IF EXISTS \`${name}\``),
  };
}

async function admin(sql: string): Promise<void> {
  const connection = await createConnection(TEST_MYSQL_URL);
  try {
    await connection.query(sql);
  } finally {
    await connection.end();
  }
}

let reachable: string | null | undefined;

/**
 * Why the test server cannot be reached (null when it can), probed once per test file. The
 * probe is a TCP connect in a child process because Jest decides describe vs describe.skip
 * synchronously, before any hook could await.
 */
export function mysqlUnreachableReason(): string | null {
  if (reachable !== undefined) return reachable;
  const { hostname, port } = new URL(TEST_MYSQL_URL);
  const probe = spawnSync(
    process.execPath,
    [
      '-e',
      `const s = require('node:net').connect(${Number(port) || 3306}, ${JSON.stringify(hostname)});
       s.on('connect', () => process.exit(0));
       s.on('error', (e) => { console.error(e.message); process.exit(1); });
       setTimeout(() => { console.error('timed out'); process.exit(1); }, 2000);`,
    ],
    { encoding: 'utf8' },
  );
  reachable = probe.status === 0 ? null : `${hostname}:${port || 3306}: ${probe.stderr.trim()}`;
  return reachable;
}

/**
 * describe() for suites that need MariaDB/MySQL. When the server does not answer: with CI=true
 * the suite fails (CI must exercise MySQL); elsewhere it is skipped with a loud warning.
 */
export function describeWithMysql(title: string, body: () => void): void {
  const reason = mysqlUnreachableReason();
  if (reason === null) {
    describe(title, body);
    return;
  }
  const message = `MySQL/MariaDB for tests is unreachable at ${reason} (set PIXPOOL_TEST_MYSQL_URL)`;
  if (process.env.CI === 'true') {
    describe(title, () => {
      it('needs a reachable MySQL/MariaDB', () => {
        throw new Error(message);
      });
    });
    return;
  }
  console.warn(`\n!!! SKIPPED "${title}": ${message}\n`);
  // The one sanctioned skip: outside CI, loudly, when the machine lacks what the suite needs.
  // eslint-disable-next-line jest/no-disabled-tests
  describe.skip(title, body);
}
