import { DataSource, Migration, QueryRunner } from 'typeorm';
import { isSqlite } from './transaction';

/** MySQL named locks are per server, not per database: the name carries the database. */
async function lockName(runner: QueryRunner): Promise<string> {
  const [row] = (await runner.query('SELECT DATABASE() AS db')) as { db: string | null }[];
  // GET_LOCK names are limited to 64 characters.
  return `pixpool_migrations:${row?.db ?? ''}`.slice(0, 64);
}

/**
 * Runs pending migrations with at most one instance migrating a database at a time. MySQL DDL is
 * not transactional, so two instances starting on an empty database would both see "nothing
 * ran" and race on CREATE TABLE; under a named lock (GET_LOCK, held by one connection, freed by
 * the server if that connection dies) the second waits, then finds nothing pending. SQLite lets
 * only one writer in at a time and its DDL is transactional: it needs no extra lock.
 */
export async function runMigrationsLocked(
  dataSource: DataSource,
  timeoutSeconds: number,
): Promise<Migration[]> {
  if (isSqlite(dataSource)) return dataSource.runMigrations();
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    const name = await lockName(runner);
    const [row] = (await runner.query('SELECT GET_LOCK(?, ?) AS got', [name, timeoutSeconds])) as {
      got: number | string | null;
    }[];
    if (Number(row?.got) !== 1) {
      throw new Error(
        `another instance has been migrating for ${timeoutSeconds} s (lock ${name}); ` +
          'raise resilience.migrationLockTimeoutSeconds or look at that instance',
      );
    }
    try {
      return await dataSource.runMigrations();
    } finally {
      await runner.query('SELECT RELEASE_LOCK(?)', [name]).catch(() => undefined);
    }
  } finally {
    await runner.release();
  }
}
