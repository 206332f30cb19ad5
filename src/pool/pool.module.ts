import { Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { POOL_RESIZER } from '../autoscaler/autoscaler.ports';
import { PoolMetrics } from '../metrics/prometheus/pool-metrics.service';
import { createAllocator } from './routing/allocators';
import { NODE_PROVIDER } from './providers/node-provider.port';
import { createNodeProvider } from './providers/node-provider.factory';
import { NodeFailureService } from './membership/node-failure.service';
import { NodeSetup } from './membership/node-setup.service';
import { PoolBootstrap } from './membership/pool-bootstrap.service';
import { PoolCacheService } from './pool-cache.service';
import { PoolEvents } from './pool-events';
import { PoolRouter } from './routing/pool-router.service';
import { POOL_STATE_STORE } from './routing/pool-state';
import { POOL_ALLOCATOR } from './pool.tokens';
import { ResizeService } from './membership/resize.service';
import { TypeOrmPoolStateStore } from './routing/typeorm-pool-state.store';
import { PeerNotifier } from './client/peer-notifier';
import { Ec2Reconciler } from './providers/ec2-reconciler.service';
import { MembershipService } from './membership/membership.service';
import { storedCacheSettingsProvider } from '../manager/settings/settings.providers';

@Module({
  providers: [
    {
      provide: POOL_STATE_STORE,
      inject: [DataSource],
      useFactory: (ds: DataSource) => new TypeOrmPoolStateStore(ds),
    },
    {
      provide: POOL_ALLOCATOR,
      inject: [AppConfig],
      useFactory: (c: AppConfig) => createAllocator(c.pool.allocator),
    },
    { provide: NODE_PROVIDER, inject: [AppConfig, DataSource], useFactory: createNodeProvider },
    {
      provide: PoolEvents,
      inject: [PoolMetrics],
      useFactory: (metrics: PoolMetrics) => {
        const events = new PoolEvents();
        events.subscribe({ resized: (d, o, s) => metrics.recordResize(d, o, s) });
        return events;
      },
    },
    // The manager's stored cache settings (the config file's until an operator changes them).
    storedCacheSettingsProvider,
    PoolRouter,
    NodeSetup,
    ResizeService,
    { provide: POOL_RESIZER, useExisting: ResizeService },
    MembershipService,
    NodeFailureService,
    PoolCacheService,
    PoolBootstrap,
    PeerNotifier,
    Ec2Reconciler,
  ],
  exports: [
    PoolRouter,
    PoolCacheService,
    ResizeService,
    POOL_RESIZER,
    NodeFailureService,
    PoolEvents,
    POOL_STATE_STORE,
  ],
})
export class PoolModule {}
