import { X509Certificate } from 'node:crypto';
import { loadConfig } from '../../../src/config/config-loader';
import { createDataSourceOptions, mysqlTls } from '../../../src/database/data-source-options';
import { openDataSource } from '../../../src/database/data-source.factory';
import { createTestMysqlDatabase, describeWithMysql } from '../../support/mysql';

describe('database.ssl', () => {
  const mysql = (ssl: string) =>
    loadConfig({
      env: {
        PIXPOOL_DATABASE_DRIVER: 'mysql',
        PIXPOOL_DATABASE_URL: 'mysql://app@db.example:3306/pixpool',
        PIXPOOL_DATABASE_SSL: ssl,
      },
    }).database;

  it('is off by default: the embedded setup and local MariaDB need no TLS', () => {
    expect(loadConfig({ env: {} }).database.ssl).toBe('off');
    expect(createDataSourceOptions(mysql('off'))).not.toHaveProperty('ssl');
  });

  it('amazon-rds trusts the RDS certificate authorities only, and checks the server', () => {
    const options = createDataSourceOptions(mysql('amazon-rds')) as { ssl?: unknown };
    expect(options.ssl).toEqual(mysqlTls('amazon-rds'));
    const { ca, rejectUnauthorized } = mysqlTls('amazon-rds');
    expect(rejectUnauthorized).toBe(true);
    const subjects = (ca ?? []).map((pem) => new X509Certificate(pem).subject);
    expect(subjects.length).toBeGreaterThan(10);
    // RDS's own CAs, plus the Starfield root that RDS Proxy's Amazon Trust Services chain ends in.
    for (const subject of subjects) expect(subject).toMatch(/O=Amazon|O=Starfield Technologies/);
  });

  it('system-ca checks the server against Node’s trusted CAs', () => {
    expect(createDataSourceOptions(mysql('system-ca'))).toMatchObject({
      ssl: { rejectUnauthorized: true },
    });
    expect(mysqlTls('system-ca')).not.toHaveProperty('ca');
  });

  it('refuses other values, naming the field', () => {
    expect(() => mysql('yes')).toThrow(/database\.ssl/);
  });
});

describe('database.poolSize', () => {
  it('bounds the MySQL connections of one instance (default 10, as mysql2)', () => {
    expect(loadConfig({ env: {} }).database.poolSize).toBe(10);
    const config = loadConfig({
      env: { PIXPOOL_DATABASE_DRIVER: 'mysql', PIXPOOL_DATABASE_POOL_SIZE: '3' },
    }).database;
    expect(createDataSourceOptions(config)).toMatchObject({ poolSize: 3 });
  });
});

describeWithMysql('database.poolSize on MariaDB', () => {
  it('runs at most poolSize queries at once', async () => {
    const db = await createTestMysqlDatabase();
    const source = await openDataSource(db.config({ poolSize: 2, migrationsRun: false }));
    try {
      const started = Date.now();
      await Promise.all(Array.from({ length: 6 }, () => source.query('SELECT SLEEP(0.2)')));
      // 6 sleeps of 0.2 s through 2 connections take 3 rounds; with 6 connections, one.
      expect(Date.now() - started).toBeGreaterThanOrEqual(550);
    } finally {
      await source.destroy();
      await db.drop();
    }
  });
});

// The local MariaDB has TLS disabled: a client that requires TLS must refuse to go on in clear.
describeWithMysql('database.ssl against a server without TLS', () => {
  it('does not fall back to plain text', async () => {
    const db = await createTestMysqlDatabase();
    try {
      await expect(openDataSource(db.config({ ssl: 'amazon-rds' }))).rejects.toThrow(
        /secure connection|ssl|tls/i,
      );
      const plain = await openDataSource(db.config({ ssl: 'off', migrationsRun: false }));
      await plain.destroy();
    } finally {
      await db.drop();
    }
  });
});
