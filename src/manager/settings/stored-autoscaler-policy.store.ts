import { Logger } from '@nestjs/common';
import { AutoscalerPolicy, AutoscalerPolicyStore } from '../../autoscaler/autoscaler.ports';
import { checkAutoscalerPolicy } from '../../autoscaler/autoscaler-policy';
import { SettingsStore } from './settings-store.port';
import { withoutUndefined } from './stored-cache-settings';

const NAME = 'autoscaler';

/**
 * The auto-scaler's policy in the database: the scaler reads it every tick, so a change made on
 * any app instance applies at the next tick, and a restart keeps it.
 */
export class StoredAutoscalerPolicyStore implements AutoscalerPolicyStore {
  private readonly logger = new Logger(StoredAutoscalerPolicyStore.name);

  constructor(
    private readonly store: SettingsStore,
    private readonly defaults: AutoscalerPolicy,
  ) {}

  async get(): Promise<AutoscalerPolicy> {
    return this.merge(await this.store.read(NAME));
  }

  /** All or nothing: an invalid patch (RangeError) leaves the policy as it was. */
  set(patch: Partial<AutoscalerPolicy>): Promise<AutoscalerPolicy> {
    const defined = withoutUndefined(patch);
    return this.store.update(NAME, (stored) =>
      checkAutoscalerPolicy({ ...this.merge(stored), ...defined }),
    );
  }

  private merge(stored: unknown): AutoscalerPolicy {
    if (stored === null) return { ...this.defaults };
    try {
      return checkAutoscalerPolicy({ ...this.defaults, ...(stored as Partial<AutoscalerPolicy>) });
    } catch (err) {
      this.logger.warn(`stored auto-scaler policy ignored: ${(err as Error).message}`);
      return { ...this.defaults };
    }
  }
}
