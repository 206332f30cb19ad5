import { Inject, Injectable } from '@nestjs/common';
import { Decision } from '../autoscaler/autoscaler-decision';
import {
  AUTOSCALER_POLICY_STORE,
  AutoscalerPolicy,
  AutoscalerPolicyStore,
} from '../autoscaler/autoscaler.ports';
import { checkAutoscalerPolicy } from '../autoscaler/autoscaler-policy';
import { AutoscalerService } from '../autoscaler/autoscaler.service';
import { rangeErrorsAsBadRequest } from './bad-request';
import { withoutUndefined } from './settings/stored-cache-settings';

export interface AutoscalerView {
  policy: AutoscalerPolicy;
  /** Newest first. */
  decisions: Decision[];
}

/** The auto-scaler's policy (stored; the scaler reads it every tick) and its recent decisions. */
@Injectable()
export class ManagerAutoscalerService {
  constructor(
    @Inject(AUTOSCALER_POLICY_STORE) private readonly policies: AutoscalerPolicyStore,
    private readonly autoscaler: AutoscalerService,
  ) {}

  async view(decisions = 20): Promise<AutoscalerView> {
    return {
      policy: await this.policies.get(),
      decisions: this.autoscaler.recentDecisions().slice(0, decisions),
    };
  }

  /** Throws 400 if the change would be refused (minMiss must stay below maxMiss), changing nothing. */
  async check(patch: Partial<AutoscalerPolicy>): Promise<void> {
    const current = await this.policies.get();
    await rangeErrorsAsBadRequest(() =>
      checkAutoscalerPolicy({ ...current, ...withoutUndefined(patch) }),
    );
  }

  update(patch: Partial<AutoscalerPolicy>): Promise<AutoscalerPolicy> {
    return rangeErrorsAsBadRequest(() => this.policies.set(patch));
  }
}
