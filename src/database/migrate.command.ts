import { MigrationExecutor } from 'typeorm';
import { loadConfig } from '../config/config-loader';
import { describeTarget, openDataSource } from './data-source.factory';
import { runMigrationsLocked } from './migration-lock';

export const MIGRATE_USAGE =
  'usage: migrate [--revert]  (runs pending migrations; --revert undoes the last one)';

/**
 * The migrate CLI's work, apart from process plumbing so it can be tested: with the app's config
 * (default.yaml, PIXPOOL_CONFIG, PIXPOOL_* variables), runs pending migrations or reverts the
 * last one, and reports each step through `log`.
 */
export async function runMigrateCommand(
  args: string[],
  env: Record<string, string | undefined>,
  log: (line: string) => void,
): Promise<void> {
  const revert = args.includes('--revert');
  const unknown = args.filter((a) => a !== '--revert');
  if (unknown.length > 0) throw new Error(`unknown argument ${unknown[0]}\n${MIGRATE_USAGE}`);

  const loaded = loadConfig({ env });
  const config = loaded.database;
  const dataSource = await openDataSource({ ...config, migrationsRun: false });
  try {
    log(`database: ${describeTarget(config)}`);
    if (revert) {
      const [last] = await new MigrationExecutor(dataSource).getExecutedMigrations();
      if (!last) {
        log('nothing to revert: no migration has run');
        return;
      }
      await dataSource.undoLastMigration();
      log(`reverted ${last.name}`);
      return;
    }
    const ran = await runMigrationsLocked(
      dataSource,
      loaded.resilience.migrationLockTimeoutSeconds,
    );
    if (ran.length === 0) log('up to date: no pending migration');
    for (const migration of ran) log(`migrated ${migration.name}`);
  } finally {
    await dataSource.destroy();
  }
}
