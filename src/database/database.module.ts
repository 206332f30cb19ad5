import { Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { openDataSource } from './data-source.factory';
import { IMAGE_TABLE } from './image-table';
import { TypeOrmImageTable } from './image-table.repository';

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
      useFactory: (config: AppConfig) => openDataSource(config.database),
    },
    {
      provide: IMAGE_TABLE,
      inject: [DataSource],
      useFactory: (dataSource: DataSource) => new TypeOrmImageTable(dataSource),
    },
    DataSourceCloser,
  ],
  exports: [DataSource, IMAGE_TABLE],
})
export class DatabaseModule {}
