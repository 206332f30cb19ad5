import { Logger } from '@nestjs/common';
import { CacheSettings, CacheSettingsSource } from '../../pool/cache-settings';
import { isNodePolicy } from '../../protocol/cache-node.protocol';
import { SettingsStore } from './settings-store.port';

const NAME = 'cache';
/** The bounds of config cache.capacityMb. */
export const CAPACITY_MB_MIN = 1;
export const CAPACITY_MB_MAX = 65536;

/** Throws a RangeError naming the field when the settings are not ones a node accepts. */
export function checkCacheSettings(settings: CacheSettings): CacheSettings {
  const { capacityMb, policy } = settings;
  if (
    !Number.isInteger(capacityMb) ||
    capacityMb < CAPACITY_MB_MIN ||
    capacityMb > CAPACITY_MB_MAX
  ) {
    throw new RangeError(
      `cache capacityMb must be an integer in ${CAPACITY_MB_MIN}..${CAPACITY_MB_MAX}, got ${String(capacityMb)}`,
    );
  }
  if (!isNodePolicy(policy)) {
    throw new RangeError(`cache policy must be lru, random or sieve, got ${String(policy)}`);
  }
  return { capacityMb, policy };
}

/**
 * The one cache configuration of every node, stored in the database: NodeSetup reads it for each
 * node that joins, and a restart keeps it. Until an operator changes it, it is the config file's.
 */
export class StoredCacheSettings implements CacheSettingsSource {
  private readonly logger = new Logger(StoredCacheSettings.name);

  constructor(
    private readonly store: SettingsStore,
    private readonly defaults: CacheSettings,
  ) {}

  async current(): Promise<CacheSettings> {
    return this.merge(await this.store.read(NAME));
  }

  /** All or nothing: an invalid change (RangeError) leaves the stored settings as they were. */
  save(change: Partial<CacheSettings>): Promise<CacheSettings> {
    const defined = withoutUndefined(change);
    return this.store.update(NAME, (stored) =>
      checkCacheSettings({ ...this.merge(stored), ...defined }),
    );
  }

  private merge(stored: unknown): CacheSettings {
    if (stored === null) return { ...this.defaults };
    try {
      return checkCacheSettings({ ...this.defaults, ...(stored as Partial<CacheSettings>) });
    } catch (err) {
      // A row edited by hand into nonsense must not stop nodes from joining.
      this.logger.warn(`stored cache settings ignored: ${(err as Error).message}`);
      return { ...this.defaults };
    }
  }
}

export function withoutUndefined<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(patch).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}
