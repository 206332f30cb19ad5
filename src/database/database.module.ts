import { Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { DependencyGuard } from '../common/dependency-guard';
import { openDataSource } from './data-source.factory';
import { isDatabaseOutage } from './database-outage';
import { GuardedImageTable } from './guarded-image-table';
import { IMAGE_TABLE } from './image-table';
import { TypeOrmImageTable } from './image-table.repository';

/** The deadline and breaker of the database, shared by every guarded table (key table, outbox). */
export const DATABASE_GUARD = Symbol('DatabaseGuard');

/** Closes the connections last, after every module's onModuleDestroy could still use them. */
@Injectable()
class DataSourceCloser implements OnApplicationShutdown {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

/**
 * Provides the TypeORM DataSource (opened, and migrated when database.migrationsRun) and
 * IMAGE_TABLE to every module. Modules with tables of their own add their entity to
 * entities.ts and their migration to migrations/index.ts, and inject DataSource.
 */
@Global()
@Module({
  providers: [
    {
      provide: DataSource,
      inject: [AppConfig],
      useFactory: (config: AppConfig) =>
        openDataSource(config.database, undefined, config.resilience),
    },
    {
      provide: DATABASE_GUARD,
      inject: [AppConfig],
      useFactory: ({ resilience }: AppConfig) =>
        new DependencyGuard({
          dependency: 'database',
          timeoutMs: resilience.databaseTimeoutMs,
          retryAfterSeconds: resilience.retryAfterSeconds,
          breakerThreshold: resilience.breakerThreshold,
          breakerOpenMs: resilience.breakerOpenMs,
          isOutage: isDatabaseOutage,
        }),
    },
    {
      provide: IMAGE_TABLE,
      inject: [DataSource, DATABASE_GUARD],
      useFactory: (dataSource: DataSource, guard: DependencyGuard) =>
        new GuardedImageTable(new TypeOrmImageTable(dataSource), guard),
    },
    DataSourceCloser,
  ],
  exports: [DataSource, IMAGE_TABLE, DATABASE_GUARD],
})
export class DatabaseModule {}
