import { DataSource } from 'typeorm';
import { MIGRATIONS } from '../../../migrations';
import { CreateManagerSettings1795753000000 } from '../../../migrations/1795753000000-CreateManagerSettings';
import { policyFromConfig } from '../../../src/autoscaler/autoscaler-policy';
import { DatabaseConfig } from '../../../src/config/app-config';
import { loadConfig } from '../../../src/config/config-loader';
import { createDataSourceOptions } from '../../../src/database/data-source-options';
import { StoredAutoscalerPolicyStore } from '../../../src/manager/settings/stored-autoscaler-policy.store';
import { StoredCacheSettings } from '../../../src/manager/settings/stored-cache-settings';
import { TypeOrmSettingsStore } from '../../../src/manager/settings/typeorm-settings.store';

export interface SettingsTestDatabase {
  config: DatabaseConfig;
  drop(): Promise<void>;
}

const defaults = loadConfig({});

/** The stored cache settings and auto-scaler policy, on whichever database `newDatabase` makes. */
export function behavesLikeStoredSettings(newDatabase: () => Promise<SettingsTestDatabase>): void {
  let database: SettingsTestDatabase;
  const open: DataSource[] = [];

  async function connect(): Promise<DataSource> {
    const dataSource = new DataSource(createDataSourceOptions(database.config));
    open.push(await dataSource.initialize());
    return dataSource;
  }

  async function stores() {
    const settings = new TypeOrmSettingsStore(await connect());
    return {
      cache: new StoredCacheSettings(settings, { ...defaults.cache }),
      policy: new StoredAutoscalerPolicyStore(settings, policyFromConfig(defaults.autoscaler)),
    };
  }

  beforeEach(async () => {
    database = await newDatabase();
  });
  afterEach(async () => {
    for (const dataSource of open.splice(0)) await dataSource.destroy();
    await database.drop();
  });

  it('starts from the config file until an operator changes something', async () => {
    const { cache, policy } = await stores();
    expect(await cache.current()).toEqual({ capacityMb: 64, policy: 'lru' });
    expect(await policy.get()).toEqual(policyFromConfig(defaults.autoscaler));
  });

  it('keeps a change across a restart (a new connection), merged onto the rest', async () => {
    const before = await stores();
    await before.cache.save({ capacityMb: 32 });
    await before.cache.save({ policy: 'random' });
    await before.policy.set({ mode: 'auto', maxMiss: 0.5 });

    const after = await stores();
    expect(await after.cache.current()).toEqual({ capacityMb: 32, policy: 'random' });
    expect(await after.policy.get()).toMatchObject({ mode: 'auto', maxMiss: 0.5, minMiss: 0.2 });
  });

  it('refuses an invalid change whole, leaving what was stored', async () => {
    const { cache, policy } = await stores();
    await cache.save({ capacityMb: 16 });
    await expect(cache.save({ capacityMb: 8, policy: 'fifo' as 'lru' })).rejects.toThrow(
      /policy must be lru, random or sieve/,
    );
    await expect(cache.save({ capacityMb: 0 })).rejects.toThrow(RangeError);
    await expect(policy.set({ mode: 'auto', minMiss: 0.9 })).rejects.toThrow(
      /minMiss \(0.9\) must be below maxMiss/,
    );
    expect(await cache.current()).toEqual({ capacityMb: 16, policy: 'lru' });
    expect((await policy.get()).mode).toBe('manual');
  });

  it('lets two instances change different fields at once without losing either', async () => {
    const [a, b] = [await stores(), await stores()];
    await Promise.all([
      a.policy.set({ maxMiss: 0.6 }),
      b.policy.set({ expRatio: 3 }),
      a.cache.save({ capacityMb: 48 }),
      b.cache.save({ policy: 'sieve' }),
    ]);
    expect(await a.policy.get()).toMatchObject({ maxMiss: 0.6, expRatio: 3 });
    expect(await b.cache.current()).toEqual({ capacityMb: 48, policy: 'sieve' });
  });

  it('ignores a stored value edited into nonsense rather than failing every node start', async () => {
    const dataSource = await connect();
    const settings = new TypeOrmSettingsStore(dataSource);
    await settings.update('cache', () => ({ capacityMb: -5, policy: 'lru' }));
    const cache = new StoredCacheSettings(settings, { capacityMb: 64, policy: 'lru' });
    expect(await cache.current()).toEqual({ capacityMb: 64, policy: 'lru' });
  });

  it('has a migration that reverts and re-applies', async () => {
    const dataSource = await connect();
    const tableExists = async () =>
      await dataSource.createQueryRunner().hasTable('manager_settings');
    expect(await tableExists()).toBe(true);
    // Undo back to and including this migration (later ones are undone first).
    const later = MIGRATIONS.length - MIGRATIONS.indexOf(CreateManagerSettings1795753000000);
    for (let i = 0; i < later; i++) await dataSource.undoLastMigration();
    expect(await tableExists()).toBe(false);
    await dataSource.runMigrations();
    expect(await tableExists()).toBe(true);
  });
}
