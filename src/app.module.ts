import { DynamicModule, Module } from '@nestjs/common';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { StorageModule } from './storage/storage.module';
import { FrontendModule } from './frontend/frontend.module';
import { HealthModule } from './health/health.module';
import { MetricsModule } from './metrics/metrics.module';
import { ScheduleModule } from '@nestjs/schedule';
import { ManagerModule } from './manager/manager.module';
import { ManagedAutoscalerModule } from './manager/managed-autoscaler.module';
import { CoordinationModule } from './coordination/coordination.module';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        ScheduleModule.forRoot(),
        DatabaseModule,
        StorageModule,
        MetricsModule,
        CoordinationModule,
        FrontendModule,
        HealthModule,
        // The auto-scaler with its policy stored by the manager (the same instance the manager uses).
        ManagedAutoscalerModule,
        ManagerModule,
      ],
    };
  }
}
