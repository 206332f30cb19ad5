import { DataSource, EntityManager } from 'typeorm';

const sqliteQueues = new WeakMap<DataSource, Promise<unknown>>();

/**
 * Runs `work` in one transaction. Every write that needs a transaction should come through here,
 * because on SQLite TypeORM shares ONE connection between all callers: two overlapping
 * `dataSource.transaction()` calls would silently nest (the second becomes a savepoint of the
 * first). So SQLite transactions of a DataSource run one after another; SQLite lets only one
 * writer at a time anyway.
 *
 * On MySQL it runs at READ COMMITTED: a `FOR UPDATE` on a missing row then takes no gap lock, so
 * two inserts of one new key meet as a duplicate-key error the caller can retry, instead of the
 * deadlock that REPEATABLE READ's gap locks turn that race into.
 */
export function inTransaction<T>(
  dataSource: DataSource,
  work: (manager: EntityManager) => Promise<T>,
): Promise<T> {
  if (!isSqlite(dataSource)) return dataSource.transaction('READ COMMITTED', work);
  const previous = sqliteQueues.get(dataSource) ?? Promise.resolve();
  const run = previous.then(() => dataSource.transaction(work));
  sqliteQueues.set(
    dataSource,
    run.catch(() => undefined),
  );
  return run;
}

export function isSqlite(dataSource: DataSource): boolean {
  const type = dataSource.options.type;
  return type === 'better-sqlite3' || type === 'sqlite';
}
