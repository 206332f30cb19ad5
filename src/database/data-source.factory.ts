import { DataSource } from 'typeorm';
import { DatabaseConfig, ResilienceConfig } from '../config/app-config';
import { createDataSourceOptions } from './data-source-options';
import { runMigrationsLocked } from './migration-lock';

/** Without a resilience section (the migrate CLI's tests), a generous wait for the lock. */
const DEFAULT_MIGRATION_LOCK_SECONDS = 60;

/**
 * An initialised DataSource (migrations run when database.migrationsRun, under the migration
 * lock so several instances may start at once), or a clear error.
 */
export async function openDataSource(
  config: DatabaseConfig,
  cwd?: string,
  resilience?: ResilienceConfig,
): Promise<DataSource> {
  const options = createDataSourceOptions(config, cwd, resilience);
  const dataSource = new DataSource({ ...options, migrationsRun: false });
  try {
    await dataSource.initialize();
    if (config.migrationsRun) {
      await runMigrationsLocked(
        dataSource,
        resilience?.migrationLockTimeoutSeconds ?? DEFAULT_MIGRATION_LOCK_SECONDS,
      );
    }
  } catch (err) {
    if (dataSource.isInitialized) await dataSource.destroy().catch(() => undefined);
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`database: cannot open ${describeTarget(config)}: ${reason}`, { cause: err });
  }
  return dataSource;
}

/** Where the database is, without the password. */
export function describeTarget(config: DatabaseConfig): string {
  if (config.driver === 'sqlite') return `SQLite file ${config.file}`;
  if (config.url) {
    const url = new URL(config.url);
    url.password = '';
    return `MySQL ${url.toString()}`;
  }
  return `MySQL ${config.user}@${config.host}:${config.port}/${config.database}`;
}
