export const SETTINGS_STORE = Symbol('SettingsStore');

/** Named JSON settings shared by every app instance (table manager_settings). */
export interface SettingsStore {
  /** The stored value, or null when the setting was never changed. */
  read(name: string): Promise<unknown>;
  /**
   * Read-modify-write in one transaction, so two operators changing different fields of one
   * setting at once both win. `change` may throw to leave the setting as it was.
   */
  update<T>(name: string, change: (current: unknown) => T): Promise<T>;
}
