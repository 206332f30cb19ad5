import { Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DependencyGuard } from '../common/dependency-guard';
import { DATABASE_GUARD } from '../database/database.module';
import { PoolModule } from '../pool/pool.module';
import { OrphanSweeper } from './orphan-sweeper.service';
import { OutboxService } from './outbox.service';
import { OutboxStore } from './outbox.store';

/**
 * Crash recovery of uploads: the invalidation outbox and the orphan-object sweeper (outbox.ts).
 * Imports the pool so its bootstrap (routing to the nodes) runs before the outbox replay.
 */
@Module({
  imports: [PoolModule],
  providers: [
    {
      provide: OutboxStore,
      inject: [DataSource, DATABASE_GUARD],
      useFactory: (dataSource: DataSource, guard: DependencyGuard) =>
        new OutboxStore(dataSource, guard),
    },
    OutboxService,
    OrphanSweeper,
  ],
  exports: [OutboxService, OutboxStore, OrphanSweeper],
})
export class OutboxModule {}
