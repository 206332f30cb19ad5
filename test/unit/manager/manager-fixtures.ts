import { SettingsStore } from '../../../src/manager/settings/settings-store.port';

/** Settings in a Map, as the manager_settings table keeps them (JSON round trip included). */
export class MemorySettingsStore implements SettingsStore {
  private readonly values = new Map<string, string>();

  async read(name: string): Promise<unknown> {
    const value = this.values.get(name);
    return value === undefined ? null : (JSON.parse(value) as unknown);
  }

  async update<T>(name: string, change: (current: unknown) => T): Promise<T> {
    const next = change(await this.read(name));
    this.values.set(name, JSON.stringify(next));
    return next;
  }
}
