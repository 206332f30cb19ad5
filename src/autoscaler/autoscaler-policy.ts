import { AutoscalerConfig } from '../config/app-config';
import { AutoscalerPolicy } from './autoscaler.ports';

/** The policy a fresh install starts with: the configured one. */
export function policyFromConfig(config: AutoscalerConfig): AutoscalerPolicy {
  const { mode, maxMiss, minMiss, expRatio, shrinkRatio } = config;
  return { mode, maxMiss, minMiss, expRatio, shrinkRatio };
}

/** The bounds of AutoscalerConfig and, as the config loader, minMiss below maxMiss. Throws a RangeError naming the field. */
export function checkAutoscalerPolicy(policy: AutoscalerPolicy): AutoscalerPolicy {
  if (policy.mode !== 'manual' && policy.mode !== 'auto') {
    throw new RangeError(`autoscaler mode must be manual or auto, got ${String(policy.mode)}`);
  }
  inRange('maxMiss', policy.maxMiss, 0, 1);
  inRange('minMiss', policy.minMiss, 0, 1);
  inRange('expRatio', policy.expRatio, 1, 8);
  inRange('shrinkRatio', policy.shrinkRatio, 0, 1);
  if (policy.minMiss >= policy.maxMiss) {
    throw new RangeError(
      `autoscaler minMiss (${policy.minMiss}) must be below maxMiss (${policy.maxMiss})`,
    );
  }
  return policy;
}

function inRange(field: keyof AutoscalerPolicy, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new RangeError(
      `autoscaler ${field} must be a number in ${min}..${max}, got ${String(value)}`,
    );
  }
}
