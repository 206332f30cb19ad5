import { Provider } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AUTOSCALER_POLICY_STORE } from '../../autoscaler/autoscaler.ports';
import { policyFromConfig } from '../../autoscaler/autoscaler-policy';
import { AppConfig } from '../../config/app-config';
import { CACHE_SETTINGS } from '../../pool/cache-settings';
import { StoredAutoscalerPolicyStore } from './stored-autoscaler-policy.store';
import { StoredCacheSettings } from './stored-cache-settings';
import { TypeOrmSettingsStore } from './typeorm-settings.store';

/*
 * The stores hold no state of their own (every call reads the database), so the pool, the
 * auto-scaler and the manager may each have an instance and still agree.
 */

export function createStoredCacheSettings(config: AppConfig, dataSource: DataSource) {
  return new StoredCacheSettings(new TypeOrmSettingsStore(dataSource), { ...config.cache });
}

/** CACHE_SETTINGS for the pool module: NodeSetup configures each joining node from it. */
export const storedCacheSettingsProvider: Provider = {
  provide: CACHE_SETTINGS,
  inject: [AppConfig, DataSource],
  useFactory: createStoredCacheSettings,
};

/** AUTOSCALER_POLICY_STORE in the database, replacing the auto-scaler's in-memory default. */
export const storedAutoscalerPolicyProvider: Provider = {
  provide: AUTOSCALER_POLICY_STORE,
  inject: [AppConfig, DataSource],
  useFactory: (config: AppConfig, dataSource: DataSource) =>
    new StoredAutoscalerPolicyStore(
      new TypeOrmSettingsStore(dataSource),
      policyFromConfig(config.autoscaler),
    ),
};
