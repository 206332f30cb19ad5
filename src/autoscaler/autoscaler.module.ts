import { DynamicModule, Module, ModuleMetadata, Provider } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { AUTOSCALER_POLICY_STORE } from './autoscaler.ports';
import { policyFromConfig } from './autoscaler-policy';
import { AutoscalerScheduler } from './autoscaler.scheduler';
import { AutoscalerService } from './autoscaler.service';
import { AUTOSCALER_SETTINGS, autoscalerSettings } from './autoscaler-settings';
import { InMemoryAutoscalerPolicyStore } from './in-memory-autoscaler-policy.store';

export interface AutoscalerModuleOptions {
  /** Modules that export POOL_RESIZER (and MISS_RATE_SOURCE, PoolMetrics, CLOCK if not from global modules). */
  imports?: ModuleMetadata['imports'];
  /** More providers, e.g. bindings of those ports; one for AUTOSCALER_POLICY_STORE replaces the in-memory store. */
  providers?: Provider[];
}

/**
 * The auto-scaler. Needs from elsewhere, through `imports`, `providers` or global modules:
 * AppConfig (ConfigModule), SchedulerRegistry (`ScheduleModule.forRoot()`, which belongs in the app
 * module), MISS_RATE_SOURCE and PoolMetrics (MetricsModule), POOL_RESIZER (the pool's resize
 * service) and, optionally, CLOCK (the system clock without it).
 * Exports the service (tick, recentDecisions for the dashboard) and the policy store.
 */
@Module({})
export class AutoscalerModule {
  static register(options: AutoscalerModuleOptions = {}): DynamicModule {
    const extra = options.providers ?? [];
    const storeGiven = extra.some(
      (provider) => typeof provider === 'object' && provider.provide === AUTOSCALER_POLICY_STORE,
    );
    const inMemoryStore: Provider = {
      provide: AUTOSCALER_POLICY_STORE,
      inject: [AppConfig],
      useFactory: (config: AppConfig) =>
        new InMemoryAutoscalerPolicyStore(policyFromConfig(config.autoscaler)),
    };
    return {
      module: AutoscalerModule,
      imports: options.imports ?? [],
      providers: [
        { provide: AUTOSCALER_SETTINGS, inject: [AppConfig], useFactory: autoscalerSettings },
        ...(storeGiven ? [] : [inMemoryStore]),
        ...extra,
        AutoscalerService,
        AutoscalerScheduler,
      ],
      exports: [AutoscalerService, AUTOSCALER_POLICY_STORE],
    };
  }
}
