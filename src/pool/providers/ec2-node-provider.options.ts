import { EC2Client } from '@aws-sdk/client-ec2';

export interface Ec2PoolTag {
  key: string;
  value: string;
}

/** Exactly one of `id` and `name`; `version` defaults to the template's default version. */
export interface Ec2LaunchTemplate {
  id?: string;
  name?: string;
  version?: string;
}

export interface Ec2NodeProviderOptions {
  /** Only used by `createEc2Client`; the provider itself talks through the injected client. */
  region?: string;
  /** Pool members are the instances carrying this tag ... */
  tag?: Ec2PoolTag;
  /** ... or (and, when both are set) the instances with these ids. */
  instanceIds?: string[];
  /** Only instances in this VPC are members: a tag alike in another VPC (another stack) is not. */
  vpcId?: string;
  /** Port the cache node listens on, on every instance. */
  port?: number;
  /** Used when no stopped pool instance is left; launched instances get the pool tag. */
  launchTemplate?: Ec2LaunchTemplate;
  pollIntervalMs?: number;
  /** How long an instance may take to reach `running` with a private IP. */
  startTimeoutMs?: number;
  /** How long a running instance's node may take to answer /health. */
  healthTimeoutMs?: number;
  /** How long a claim on an instance lasts; longer than any start (startTimeoutMs + healthTimeoutMs). */
  claimTtlMs?: number;
  /** How long a tagged instance may run outside the assignment before the reconciler stops it. */
  strayGraceMs?: number;
  /** Give up retrying a throttled (RequestLimitExceeded) call this long after its first attempt. */
  throttleDeadlineMs?: number;
  /** How long grows skip an instance that failed to become healthy (then it gets another chance). */
  failedRetryMs?: number;
}

export interface ResolvedEc2Options {
  tag?: Ec2PoolTag;
  instanceIds?: string[];
  vpcId?: string;
  port: number;
  /** Set only with a tag: launched instances are found again through it. */
  launch?: { template: Ec2LaunchTemplate; tag: Ec2PoolTag };
  pollIntervalMs: number;
  startTimeoutMs: number;
  healthTimeoutMs: number;
  claimTtlMs: number;
  strayGraceMs: number;
  throttleDeadlineMs: number;
  failedRetryMs: number;
}

export const EC2_PROVIDER_DEFAULTS = {
  port: 5001,
  pollIntervalMs: 5_000,
  startTimeoutMs: 300_000,
  healthTimeoutMs: 120_000,
  claimTtlMs: 900_000,
  strayGraceMs: 300_000,
  throttleDeadlineMs: 60_000,
  failedRetryMs: 3_600_000,
} as const;

const POSITIVE_FIELDS = [
  'port',
  'pollIntervalMs',
  'startTimeoutMs',
  'healthTimeoutMs',
  'claimTtlMs',
  'strayGraceMs',
  'throttleDeadlineMs',
  'failedRetryMs',
] as const;

/** Rejects option sets that would make the provider touch instances outside its pool or lose launched ones. */
export function resolveEc2Options(options: Ec2NodeProviderOptions): ResolvedEc2Options {
  const { tag, instanceIds, launchTemplate } = options;
  const hasIds = instanceIds !== undefined && instanceIds.length > 0;
  if (!tag && !hasIds) {
    throw new Error(
      'EC2 node provider needs a tag or a non-empty instanceIds list to find its instances',
    );
  }
  if (tag && (!tag.key || !tag.value)) {
    throw new Error('EC2 node provider tag needs both a key and a value');
  }
  let launch: ResolvedEc2Options['launch'];
  if (launchTemplate) {
    // Launched instances are found again only through the tag; an id list cannot grow at runtime.
    if (!tag)
      throw new Error(
        'EC2 node provider launchTemplate needs a tag to tag the instances it launches',
      );
    if (!launchTemplate.id === !launchTemplate.name) {
      throw new Error('EC2 node provider launchTemplate needs exactly one of id and name');
    }
    launch = { template: launchTemplate, tag };
  }
  const resolved: ResolvedEc2Options = {
    tag,
    instanceIds: hasIds ? [...new Set(instanceIds)].sort() : undefined,
    vpcId: options.vpcId || undefined,
    launch,
    port: options.port ?? EC2_PROVIDER_DEFAULTS.port,
    pollIntervalMs: options.pollIntervalMs ?? EC2_PROVIDER_DEFAULTS.pollIntervalMs,
    startTimeoutMs: options.startTimeoutMs ?? EC2_PROVIDER_DEFAULTS.startTimeoutMs,
    healthTimeoutMs: options.healthTimeoutMs ?? EC2_PROVIDER_DEFAULTS.healthTimeoutMs,
    claimTtlMs: options.claimTtlMs ?? EC2_PROVIDER_DEFAULTS.claimTtlMs,
    strayGraceMs: options.strayGraceMs ?? EC2_PROVIDER_DEFAULTS.strayGraceMs,
    throttleDeadlineMs: options.throttleDeadlineMs ?? EC2_PROVIDER_DEFAULTS.throttleDeadlineMs,
    failedRetryMs: options.failedRetryMs ?? EC2_PROVIDER_DEFAULTS.failedRetryMs,
  };
  for (const field of POSITIVE_FIELDS) {
    if (!Number.isInteger(resolved[field]) || resolved[field] <= 0) {
      throw new Error(
        `EC2 node provider ${field} must be a positive integer, got ${resolved[field]}`,
      );
    }
  }
  // A claim that ran out while its start is still in flight would let another app instance (or the
  // reconciler) take the instance being started.
  const longestStart = resolved.startTimeoutMs + resolved.healthTimeoutMs;
  if (resolved.claimTtlMs <= longestStart) {
    throw new Error(
      `EC2 node provider claimTtlMs (${resolved.claimTtlMs}) must exceed startTimeoutMs + ` +
        `healthTimeoutMs (${longestStart})`,
    );
  }
  return resolved;
}

export function describePool(options: ResolvedEc2Options): string {
  const parts: string[] = [];
  if (options.tag) parts.push(`tagged ${options.tag.key}=${options.tag.value}`);
  if (options.instanceIds) parts.push(`among ${options.instanceIds.join(', ')}`);
  if (options.vpcId) parts.push(`in ${options.vpcId}`);
  return parts.join(' ');
}

/**
 * Every EC2 call gets a deadline: the SDK sets none by default, and a call hung on a dead connection
 * would hold the rebalance lock. The SDK's own retries (3 attempts) stay on for transient errors.
 */
export function createEc2Client(options: {
  region?: string;
  /** Another EC2-protocol endpoint (tests, emulators); empty for AWS. */
  endpoint?: string;
  requestTimeoutMs?: number;
}): EC2Client {
  return new EC2Client({
    ...(options.region ? { region: options.region } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    requestHandler: {
      connectionTimeout: 5_000,
      requestTimeout: options.requestTimeoutMs ?? 30_000,
      // Without it the SDK only logs a warning when the timeout passes, and keeps waiting.
      throwOnRequestTimeout: true,
    },
  });
}
