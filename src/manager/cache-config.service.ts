import { Injectable, Logger } from '@nestjs/common';
import { CacheSettings } from '../pool/cache-settings';
import { PoolRouter } from '../pool/routing/pool-router.service';
import { rangeErrorsAsBadRequest } from './bad-request';
import {
  checkCacheSettings,
  StoredCacheSettings,
  withoutUndefined,
} from './settings/stored-cache-settings';

const MIB = 1024 * 1024;

export interface CacheConfigView extends CacheSettings {
  /** Nodes that did not take the change now; the stats poller retries them within one poll. */
  notReached: { id: string; error: string }[];
}

/** The pool's one cache configuration: stored first (nodes that join later get it), then pushed. */
@Injectable()
export class CacheConfigService {
  private readonly logger = new Logger(CacheConfigService.name);

  constructor(
    private readonly settings: StoredCacheSettings,
    private readonly router: PoolRouter,
  ) {}

  current(): Promise<CacheSettings> {
    return this.settings.current();
  }

  /** Throws 400 if the change would be refused, changing nothing. */
  async check(change: Partial<CacheSettings>): Promise<void> {
    const current = await this.settings.current();
    await rangeErrorsAsBadRequest(() =>
      checkCacheSettings({ ...current, ...withoutUndefined(change) }),
    );
  }

  async apply(change: Partial<CacheSettings>): Promise<CacheConfigView> {
    const settings = await rangeErrorsAsBadRequest(() => this.settings.save(change));
    const notReached = await this.push(settings);
    this.logger.log(
      `cache settings: ${settings.capacityMb} MB per node, ${settings.policy}` +
        (notReached.length ? ` (not reached yet: ${notReached.map((n) => n.id).join(', ')})` : ''),
    );
    return { ...settings, notReached };
  }

  private async push(settings: CacheSettings): Promise<{ id: string; error: string }[]> {
    const notReached: { id: string; error: string }[] = [];
    const change = { capacityBytes: settings.capacityMb * MIB, policy: settings.policy };
    await Promise.all(
      this.router.nodes().map((node) =>
        node.client.setConfig(change).catch((err: Error) => {
          notReached.push({ id: node.id, error: err.message });
        }),
      ),
    );
    return notReached;
  }
}
