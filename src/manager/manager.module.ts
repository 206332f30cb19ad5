import { Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { FrontendModule } from '../frontend/frontend.module';
import { PoolModule } from '../pool/pool.module';
import { CacheConfigService } from './cache-config.service';
import { CacheSettingsReconciler } from './cache-settings.reconciler';
import { CourseEndpointsWarning } from './course/course-endpoints.warning';
import { CourseManagerController } from './course/course-manager.controller';
import { CourseManagerService } from './course/course-manager.service';
import { ManagedAutoscalerModule } from './managed-autoscaler.module';
import { ManagerAutoscalerController } from './manager-autoscaler.controller';
import { ManagerAutoscalerService } from './manager-autoscaler.service';
import { ManagerCacheController } from './manager-cache.controller';
import { ManagerDataController } from './manager-data.controller';
import { ManagerDataService } from './manager-data.service';
import { ManagerDependenciesController } from './manager-dependencies.controller';
import { ManagerPagesController } from './manager-pages.controller';
import { ManagerPoolController } from './manager-pool.controller';
import { ManagerPoolService } from './manager-pool.service';
import { ManagerStatsController } from './manager-stats.controller';
import { ManagerStatsService } from './manager-stats.service';
import { createStoredCacheSettings } from './settings/settings.providers';
import { StoredCacheSettings } from './settings/stored-cache-settings';
import { StatsPoller } from './stats-poller.service';

export const MANAGER_CONTROLLERS = [
  ManagerPoolController,
  ManagerStatsController,
  ManagerCacheController,
  ManagerAutoscalerController,
  ManagerDataController,
  ManagerDependenciesController,
  CourseManagerController,
  ManagerPagesController,
];

/**
 * How an operator sees and steers the pool: statistics polling, the dashboard, the manager REST
 * API and the course's tester endpoints, stored cache settings and auto-scaler policy.
 */
@Module({
  imports: [PoolModule, FrontendModule, ManagedAutoscalerModule],
  controllers: MANAGER_CONTROLLERS,
  providers: [
    {
      provide: StoredCacheSettings,
      inject: [AppConfig, DataSource],
      useFactory: createStoredCacheSettings,
    },
    CacheSettingsReconciler,
    StatsPoller,
    CacheConfigService,
    ManagerPoolService,
    ManagerStatsService,
    ManagerAutoscalerService,
    ManagerDataService,
    CourseManagerService,
    CourseEndpointsWarning,
  ],
})
export class ManagerModule {}
