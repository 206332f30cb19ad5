import { DataSource, QueryFailedError } from 'typeorm';
import { inTransaction, isSqlite } from '../../database/transaction';
import { ManagerSettingEntity } from './manager-setting.entity';
import { SettingsStore } from './settings-store.port';

/** Attempts of an update whose first write of a setting met another instance's first write. */
const INSERT_RACE_ATTEMPTS = 3;

export class TypeOrmSettingsStore implements SettingsStore {
  constructor(private readonly dataSource: DataSource) {}

  async read(name: string): Promise<unknown> {
    const row = await this.dataSource.getRepository(ManagerSettingEntity).findOneBy({ name });
    return row ? (JSON.parse(row.value) as unknown) : null;
  }

  async update<T>(name: string, change: (current: unknown) => T): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.updateOnce(name, change);
      } catch (err) {
        // Two instances creating the row at once: the loser reads the winner's row and retries.
        if (!(err instanceof QueryFailedError) || attempt >= INSERT_RACE_ATTEMPTS) throw err;
      }
    }
  }

  private updateOnce<T>(name: string, change: (current: unknown) => T): Promise<T> {
    return inTransaction(this.dataSource, async (manager) => {
      const rows = manager.getRepository(ManagerSettingEntity);
      // SQLite has no row locks (its transactions here run one at a time); MySQL locks the row.
      const lock = isSqlite(this.dataSource) ? undefined : ({ mode: 'pessimistic_write' } as const);
      const row = await rows.findOne({ where: { name }, lock });
      const next = change(row ? (JSON.parse(row.value) as unknown) : null);
      const values = { value: JSON.stringify(next), updatedAt: new Date() };
      if (row) await rows.update({ name }, values);
      else await rows.insert({ name, ...values });
      return next;
    });
  }
}
