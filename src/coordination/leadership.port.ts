export const LEADERSHIP = Symbol('Leadership');

/**
 * Which app instance runs the singleton jobs (auto-scaler tick, EC2 reconciler, pool-total
 * metrics, sweepers). Every instance keeps serving and polling; only the leader acts.
 *
 * Jobs take it with `@Optional() @Inject(LEADERSHIP)`: where no provider is registered there is
 * one instance, and it leads.
 */
export interface Leadership {
  /** True while this instance holds an unexpired lease; ask right before each singleton action. */
  isLeader(): boolean;
  /**
   * The lease epoch while leading (grows with every new leader), else null. A job passes it to
   * whatever it changes so a deposed leader's late write is refused (fencing).
   */
  fencingToken(): number | null;
}
