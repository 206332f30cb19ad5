import type { AppConfig } from '../config/app-config';

/**
 * How long a node may hold an answer for near-cache subscribers (an unreachable one is waited out
 * for one lease), and so how long gained regions are held and how much longer than a plain
 * request an invalidation may take. 0 when the near cache is off (on every instance alike).
 */
export function nearWaitMs(config: AppConfig): number {
  return config.nearCache.capacityMb > 0 ? config.nearCache.leaseMs : 0;
}
