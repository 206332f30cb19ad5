import { AutoscalerPolicy } from './autoscaler.ports';

/** 'replace': not the scaler's own verdict, a failed node replaced (src/pool/membership/). */
export type ScalingAction = 'grow' | 'shrink' | 'none' | 'replace';

/** One tick's verdict, as logged, kept for the dashboard and counted. */
export interface Decision {
  /** Tick time, ISO 8601. */
  at: string;
  /** Pool miss rate over the last minute (0..1); null when it was not read (manual mode, a skipped tick, a failed read). */
  missRate: number | null;
  lookups: number | null;
  /** Pool size when deciding. */
  n: number;
  /** Size asked for; equals n when the action is none. */
  target: number;
  action: ScalingAction;
  reason: string;
  /** How the resize ended (grow and shrink only, once it has ended). */
  outcome?: 'ok' | 'failed';
  error?: string;
}

export interface ScalingLimits {
  /** Pool bounds (config pool.min / pool.max). */
  min: number;
  max: number;
  /**
   * Fewer lookups in the minute than this are no evidence to resize on. Default 10: the course's load
   * generators drive shrinking with one read every 5 s, 12 a minute, which must still count.
   */
  minLookups: number;
  /** Quiet time after a resize ends, so the hit rate can settle before it is judged again. */
  cooldownMs: number;
}

export interface DecideInput {
  missRate: number | null;
  lookups: number | null;
  n: number;
  policy: AutoscalerPolicy;
  limits: ScalingLimits;
  now: Date;
  /** End of the last resize this scaler ran; null before the first. */
  lastResizeAt: Date | null;
  /** A resize (anyone's) holds the rebalance lock. */
  resizing: boolean;
}

/**
 * The course's rule (miss rate > maxMiss: ceil(n × expRatio); < minMiss: floor(n × shrinkRatio);
 * clamped to the pool bounds), behind the guards this scaler adds: manual mode, a running resize,
 * the cooldown and too little traffic each mean no action, checked in that order.
 */
export function decide(input: DecideInput): Decision {
  const { n, policy, limits, now } = input;
  const none = (reason: string): Decision => noAction(now, n, reason, input);
  if (policy.mode === 'manual') return none('manual mode');
  if (input.resizing) return none('resize in progress');
  const cooldownLeftMs = input.lastResizeAt
    ? input.lastResizeAt.getTime() + limits.cooldownMs - now.getTime()
    : 0;
  if (cooldownLeftMs > 0) return none(`cooldown: ${Math.ceil(cooldownLeftMs / 1000)} s left`);
  const { missRate, lookups } = input;
  if (missRate === null || lookups === null) return none('no miss rate reading');
  // An idle pool has a miss rate of 0 by definition: shrinking it on that would be acting on no evidence.
  if (lookups < limits.minLookups) return none(`idle: ${lookups} lookups < ${limits.minLookups}`);
  const scaled = (target: number, action: 'grow' | 'shrink', reason: string): Decision => ({
    ...noAction(now, n, reason, input),
    target,
    action,
  });
  if (missRate > policy.maxMiss) {
    const [rate, bound] = formatPair(missRate, policy.maxMiss);
    const why = `miss rate ${rate} > maxMiss ${bound}`;
    // Clamping alone could turn a grow into a shrink when the pool is above a lowered max: a grow only grows.
    const target = clamp(Math.ceil(n * policy.expRatio), limits);
    if (target > n) return scaled(target, 'grow', why);
    return none(n >= limits.max ? `at max ${limits.max}: ${why}` : `rounds to no change: ${why}`);
  }
  if (missRate < policy.minMiss) {
    const [rate, bound] = formatPair(missRate, policy.minMiss);
    const why = `miss rate ${rate} < minMiss ${bound}`;
    const target = clamp(Math.floor(n * policy.shrinkRatio), limits);
    if (target < n) return scaled(target, 'shrink', why);
    return none(n <= limits.min ? `at min ${limits.min}: ${why}` : `rounds to no change: ${why}`);
  }
  const [low, rate, high] = [policy.minMiss, missRate, policy.maxMiss].map((x) => x.toFixed(2));
  return none(`within band: miss rate ${rate} in [${low}, ${high}]`);
}

/** A decision to leave the pool as it is. */
export function noAction(
  now: Date,
  n: number,
  reason: string,
  reading: { missRate: number | null; lookups: number | null } = { missRate: null, lookups: null },
): Decision {
  return {
    at: now.toISOString(),
    missRate: reading.missRate,
    lookups: reading.lookups,
    n,
    target: n,
    action: 'none',
    reason,
  };
}

function clamp(target: number, limits: ScalingLimits): number {
  return Math.min(limits.max, Math.max(limits.min, target));
}

/** Two decimals, or more when two decimals would print "0.80 > 0.80". */
function formatPair(value: number, bound: number): [string, string] {
  let digits = 2;
  while (digits < 6 && value.toFixed(digits) === bound.toFixed(digits)) digits++;
  return [value.toFixed(digits), bound.toFixed(digits)];
}
