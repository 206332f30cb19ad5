import { DataSource } from 'typeorm';
import { DatabaseConfig, ResilienceConfig } from '../config/app-config';
import { createDataSourceOptions } from './data-source-options';
import { runMigrationsLocked } from './migration-lock';

/** Without a resilience section (the migrate CLI's tests), a generous wait for the lock. */
const DEFAULT_MIGRATION_LOCK_SECONDS = 60;

/**
 * An initialised DataSource (migrations run first when database.migrationsRun, under the
 * migration lock so several instances may start at once), or a clear error.
 *
 * Migrations run on a DataSource of their own without the query deadline: a schema change on a
 * big table, or the wait for another instance's lock, may rightly take longer than any request.
 */
export async function openDataSource(
  config: DatabaseConfig,
  cwd?: string,
  resilience?: ResilienceConfig,
): Promise<DataSource> {
  if (config.migrationsRun) {
    await withDataSource(config, new DataSource(noAutoMigrations(config, cwd)), (migrator) =>
      runMigrationsLocked(
        migrator,
        resilience?.migrationLockTimeoutSeconds ?? DEFAULT_MIGRATION_LOCK_SECONDS,
      ),
    );
  }
  const dataSource = new DataSource(noAutoMigrations(config, cwd, resilience));
  await withDataSource(config, dataSource, async () => undefined, { keepOpen: true });
  return dataSource;
}

function noAutoMigrations(config: DatabaseConfig, cwd?: string, resilience?: ResilienceConfig) {
  return { ...createDataSourceOptions(config, cwd, resilience), migrationsRun: false };
}

/** Opens `dataSource`, runs `work`, closes it unless keepOpen; errors name the database. */
async function withDataSource(
  config: DatabaseConfig,
  dataSource: DataSource,
  work: (dataSource: DataSource) => Promise<unknown>,
  options: { keepOpen?: boolean } = {},
): Promise<void> {
  let failed = false;
  try {
    await dataSource.initialize();
    await work(dataSource);
  } catch (err) {
    failed = true;
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`database: cannot open ${describeTarget(config)}: ${reason}`, { cause: err });
  } finally {
    if ((failed || !options.keepOpen) && dataSource.isInitialized) {
      await dataSource.destroy().catch(() => undefined);
    }
  }
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
