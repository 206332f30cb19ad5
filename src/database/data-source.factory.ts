import { DataSource } from 'typeorm';
import { DatabaseConfig } from '../config/app-config';
import { createDataSourceOptions } from './data-source-options';

/** An initialised DataSource (migrations run when database.migrationsRun), or a clear error. */
export async function openDataSource(config: DatabaseConfig, cwd?: string): Promise<DataSource> {
  const dataSource = new DataSource(createDataSourceOptions(config, cwd));
  try {
    await dataSource.initialize();
  } catch (err) {
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
