import type { AppConfig } from '../config/app-config';

/**
 * How much longer than a plain request a node may take to answer a request it holds for its
 * near-cache subscribers (an unreachable one is waited out for one lease): the lease the nodes
 * this instance starts grant. A node that says it grants longer raises this for itself
 * (CacheNodeClient learns it from /health). Whether this instance's own near cache is on does not
 * matter: other instances' may be.
 */
export function nearWaitMs(config: AppConfig): number {
  return config.nearCache.leaseMs;
}
