export const POOL_RESIZER = Symbol('PoolResizer');
export interface PoolResizer {
  /** Nodes in the pool now. */
  size(): number;
  /** True while a resize (from anyone) runs. */
  isResizing(): boolean;
  /**
   * Resize under the rebalance lock; rejects with an error whose `name` is 'ResizeInProgressError' when another resize holds the lock.
   * With a fencing token (the leader lease's epoch), the new assignment is saved only while that lease is still current.
   */
  resizeTo(target: number, reason: string, fencingToken?: number | null): Promise<unknown>;
}

export const AUTOSCALER_POLICY_STORE = Symbol('AutoscalerPolicyStore');
export interface AutoscalerPolicy {
  mode: 'manual' | 'auto';
  maxMiss: number;
  minMiss: number;
  expRatio: number;
  shrinkRatio: number;
}
export interface AutoscalerPolicyStore {
  get(): Promise<AutoscalerPolicy>;
  set(patch: Partial<AutoscalerPolicy>): Promise<AutoscalerPolicy>;
}
