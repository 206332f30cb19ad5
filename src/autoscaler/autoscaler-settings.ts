import { AppConfig } from '../config/app-config';
import { ScalingLimits } from './autoscaler-decision';

export const AUTOSCALER_SETTINGS = Symbol('AutoscalerSettings');

/** What the auto-scaler reads from the config at start; the policy (mode, band, ratios) is read every tick instead. */
export interface AutoscalerSettings {
  limits: ScalingLimits;
  intervalMs: number;
  /** Whether this app instance runs the job (one instance of several should). */
  enabled: boolean;
}

export function autoscalerSettings(config: AppConfig): AutoscalerSettings {
  const { min, max } = config.pool;
  const { minLookups, cooldownMs, intervalMs, enabled } = config.autoscaler;
  return { limits: { min, max, minLookups, cooldownMs }, intervalMs, enabled };
}
