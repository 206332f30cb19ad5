import { AutoscalerPolicy, AutoscalerPolicyStore } from './autoscaler.ports';
import { checkAutoscalerPolicy } from './autoscaler-policy';

/**
 * The policy of this process only, lost at restart: the default until the manager provides the store
 * persisted in the database (which every app instance shares).
 */
export class InMemoryAutoscalerPolicyStore implements AutoscalerPolicyStore {
  private policy: AutoscalerPolicy;

  constructor(initial: AutoscalerPolicy) {
    this.policy = checkAutoscalerPolicy({ ...initial });
  }

  async get(): Promise<AutoscalerPolicy> {
    return { ...this.policy };
  }

  /** All or nothing: an invalid patch (RangeError) leaves the policy as it was. */
  async set(patch: Partial<AutoscalerPolicy>): Promise<AutoscalerPolicy> {
    const defined = Object.fromEntries(
      Object.entries(patch).filter(([, value]) => value !== undefined),
    ) as Partial<AutoscalerPolicy>;
    this.policy = checkAutoscalerPolicy({ ...this.policy, ...defined });
    return { ...this.policy };
  }
}
