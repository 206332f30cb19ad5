import 'reflect-metadata';
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  ValidateIf,
  ValidateNested,
} from 'class-validator';

/*
 * The one typed configuration of the app. Defaults live in config/default.yaml (every field is
 * there, which is also what makes its environment variable known); this file only says what a
 * valid value is. See config-loader.ts for the layering.
 */

export class ServerConfig {
  @IsInt() @Min(0) @Max(65535) port!: number;
  @IsString() @MinLength(1) host!: string;
  /** Largest accepted upload, in bytes. */
  @IsInt() @Min(1) uploadLimitBytes!: number;
  @IsInt() @Min(1) @Max(1024) maxKeyLength!: number;
  /** Other app instances to notify of pool changes: comma-separated base URLs. */
  @IsString() peers!: string;
  /**
   * Proxies whose X-Forwarded-For names the client (Express's "trust proxy": loopback, a CIDR
   * list); the per-client rate limits count by that address. Empty: the connection's address.
   */
  @Matches(/^$|^[a-z0-9.:/]+(,\s*[a-z0-9.:/]+)*$/i, {
    message: 'server.trustProxy must be empty, loopback, or addresses/CIDRs separated by commas',
  })
  trustProxy!: string;
  /** Most keys in one list_keys answer: the unpaginated form stops here, and `limit` may not exceed it. */
  @IsInt() @Min(1) @Max(1_000_000) listKeysMax!: number;
}

export class StorageConfig {
  @IsIn(['fs', 's3']) driver!: 'fs' | 's3';
  /** Folder of the fs driver, relative to the working directory. */
  @IsString() @MinLength(1) dir!: string;
  @IsString() bucket!: string;
  /** Prefix of every object name in the bucket, e.g. "pixpool/". */
  @IsString() prefix!: string;
  @IsString() region!: string;
  /** Endpoint of an S3-compatible server (MinIO, s3rver); empty for AWS. */
  @IsString() endpoint!: string;
  @IsBoolean() forcePathStyle!: boolean;
  /** Most bytes of images stored in all (0 = no quota); an upload beyond it gets 507. */
  @IsInt() @Min(0) quotaBytes!: number;
}

export class DatabaseConfig {
  @IsIn(['sqlite', 'mysql']) driver!: 'sqlite' | 'mysql';
  /** SQLite file, relative to the working directory. */
  @IsString() @MinLength(1) file!: string;
  /** mysql://user:pass@host:port/db; when set it wins over host/port/user/password/database. */
  @IsString() url!: string;
  @IsString() host!: string;
  @IsInt() @Min(1) @Max(65535) port!: number;
  @IsString() user!: string;
  @IsString() password!: string;
  @IsString() database!: string;
  /** Run pending migrations at start (else run `npm run migrate`). */
  @IsBoolean() migrationsRun!: boolean;
  /** Most MySQL connections open at once from this instance (mysql2 connectionLimit). */
  @IsInt() @Min(1) @Max(1000) poolSize!: number;
  /** TLS to MySQL: off, amazon-rds (the RDS CA bundle), system-ca (Node's trusted CAs). */
  @IsIn(['off', 'amazon-rds', 'system-ca']) ssl!: 'off' | 'amazon-rds' | 'system-ca';
}

export class Ec2Config {
  @IsString() region!: string;
  /** Tag that marks the pool's instances, as Key=Value. */
  @Matches(/^$|^[^=]+=.*$/, { message: 'ec2.tag must look like Key=Value' }) tag!: string;
  /** Alternative to the tag: comma-separated instance ids. */
  @IsString() instanceIds!: string;
  @IsInt() @Min(1) @Max(65535) port!: number;
  @IsString() launchTemplate!: string;
  /** Version app-launched nodes use: a number, $Latest or $Default; empty: the template's default. */
  @Matches(/^$|^([1-9][0-9]*|\$Latest|\$Default)$/, {
    message: 'ec2.launchTemplateVersion must be a version number, $Latest or $Default',
  })
  launchTemplateVersion!: string;
  /** Pool members are tagged instances in this VPC only; empty: in any VPC. */
  @Matches(/^$|^vpc-[0-9a-f]+$/, { message: 'ec2.vpcId must look like vpc-0123abcd' })
  vpcId!: string;
  /** How long later grows skip an instance that failed to become healthy. */
  @IsInt() @Min(1000) failedRetryMs!: number;
  /** How long an instance may take to reach `running` with a private IP. */
  @IsInt() @Min(1000) startTimeoutMs!: number;
  /** How long a running instance's node may take to answer /health after its start. */
  @IsInt() @Min(1000) healthTimeoutMs!: number;
  /** How often a start or stop in progress asks EC2 for the instance's state. */
  @IsInt() @Min(100) pollIntervalMs!: number;
  /** How often the leader looks for pool instances running outside the assignment. */
  @IsInt() @Min(1000) reconcileIntervalMs!: number;
  /** How long one may run outside the assignment before the reconciler stops it. */
  @IsInt() @Min(1000) strayGraceMs!: number;
  /** How long an app instance's claim on an instance lasts (> startTimeoutMs + healthTimeoutMs). */
  @IsInt() @Min(1000) claimTtlMs!: number;
  /** Give up retrying a throttled EC2 call (RequestLimitExceeded) this long after it was first sent. */
  @IsInt() @Min(1000) throttleDeadlineMs!: number;
}

export class PoolConfig {
  @IsInt() @Min(1) @Max(8) min!: number;
  @IsInt() @Min(1) @Max(8) max!: number;
  /** Pool size at first start; later starts resume the stored assignment. */
  @IsInt() @Min(1) @Max(8) initial!: number;
  @IsIn(['local', 'static', 'ec2']) provider!: 'local' | 'static' | 'ec2';
  @IsIn(['balanced', 'round-robin']) allocator!: 'balanced' | 'round-robin';
  /** First port of local cache nodes (local provider: basePort .. basePort+7). */
  @IsInt() @Min(1) @Max(65528) basePort!: number;
  /** Static provider: comma-separated host:port list. */
  @IsString() staticNodes!: string;
  @IsInt() @Min(50) requestTimeoutMs!: number;
  @IsInt() @Min(100) healthIntervalMs!: number;
  /**
   * How long an upload's pending mark lasts at most (src/cache-node/pending-keys.ts): its commit
   * must land within it, and a crashed uploader's key is only read from storage this long.
   */
  @IsInt() @Min(1000) @Max(30000) pendingMs!: number;
  @Type(() => Ec2Config) @ValidateNested() ec2!: Ec2Config;
}

export class CacheConfig {
  /** Capacity of each node, in MB. */
  @IsInt() @Min(1) @Max(65536) capacityMb!: number;
  @IsIn(['lru', 'random', 'sieve']) policy!: 'lru' | 'random' | 'sieve';
}

export class SecurityConfig {
  /** Bearer token of the manager and notify endpoints; empty = loopback callers only. */
  @IsString() adminToken!: string;
  /** Shared secret between the app and its cache nodes; empty = nodes bind loopback only. */
  @IsString() nodeSecret!: string;
  /** Let unauthenticated remote callers use the course tester endpoints (for course test clients). */
  @IsBoolean() openCourseEndpoints!: boolean;
  /** Listen beyond loopback without adminToken anyway (the operator accepts an open manager). */
  @IsBoolean() allowInsecureNetwork!: boolean;
  /**
   * Without adminToken, loopback callers are admin when their request carries no forwarding
   * header (Forwarded, X-Forwarded-For, X-Real-IP). Off: without a token nobody is admin.
   */
  @IsBoolean() trustLoopback!: boolean;
  /**
   * Public names the app is reached by (comma-separated; `*.example.org` for subdomains), beside
   * loopback names and IP addresses: any other Host is refused (DNS rebinding).
   */
  @Matches(/^$|^(\*\.)?[a-z0-9.-]+(,\s*(\*\.)?[a-z0-9.-]+)*$/i, {
    message:
      'security.allowedHosts must be host names separated by commas, e.g. images.example.org,*.example.net',
  })
  allowedHosts!: string;
  /** Bearer token uploads need (the admin token works too); empty = anyone may upload. */
  @IsString() writeToken!: string;
  /** TLS is terminated in front (load balancer, nginx): pages send Strict-Transport-Security. */
  @IsBoolean() tlsInFront!: boolean;
}

/** What one client can hold: time on a connection, connections, buffered uploads. */
export class LimitsConfig {
  @IsInt() @Min(100) headersTimeoutMs!: number;
  @IsInt() @Min(100) requestTimeoutMs!: number;
  @IsInt() @Min(100) keepAliveTimeoutMs!: number;
  @IsInt() @Min(1) maxConnections!: number;
  @IsInt() @Min(1) maxConcurrentUploads!: number;
  /** Uploads one client address may have in progress at once (of maxConcurrentUploads). */
  @IsInt() @Min(1) maxUploadsPerClient!: number;
  /** An upload body arriving slower than this on average, after uploadRateGraceMs, gets 408. */
  @IsInt() @Min(0) minUploadBytesPerSecond!: number;
  @IsInt() @Min(1000) uploadRateGraceMs!: number;
  @IsInt() @Min(1) nodeMaxConnections!: number;
  /** An answer whose client takes no byte for this long is cut (slow readers). */
  @IsInt() @Min(100) responseIdleTimeoutMs!: number;
  /** Answer bytes handed to one connection before waiting for its client to take them. */
  @IsInt() @Min(4096) @Max(16 * 1024 * 1024) maxQueuedBytesPerConnection!: number;
  /** Bytes of large answers in flight together; one more gets 503 + Retry-After. */
  @IsInt() @Min(1024 * 1024) maxQueuedResponseBytes!: number;
}

/** Token buckets per client (see src/common/rate-limit): rate per minute and burst; 0 = no limit. */
export class RateLimitsConfig {
  @IsInt() @Min(0) uploadsPerMinute!: number;
  @IsInt() @Min(1) uploadBurst!: number;
  @IsInt() @Min(0) listingsPerMinute!: number;
  @IsInt() @Min(1) listingBurst!: number;
  /** Clients remembered per limit; beyond it the longest idle are forgotten (they start full). */
  @IsInt() @Min(100) maxClients!: number;
}

export class MetricsConfig {
  @IsIn(['local', 'cloudwatch']) driver!: 'local' | 'cloudwatch';
  @IsString() namespace!: string;
  /** Extra CloudWatch dimensions, as Name=Value,Name=Value. */
  @Matches(/^$|^[^=,]+=[^=,]*(,[^=,]+=[^=,]*)*$/, {
    message: 'metrics.dimensions must look like Name=Value,Name=Value',
  })
  dimensions!: string;
  @IsString() region!: string;
  @IsInt() @Min(100) pollIntervalMs!: number;
  @IsInt() @Min(30) @Max(1440) retentionMinutes!: number;
}

export class AutoscalerConfig {
  /** This instance may lead the singleton jobs (the leader lease picks one of the eligible). */
  @IsBoolean() enabled!: boolean;
  @IsIn(['manual', 'auto']) mode!: 'manual' | 'auto';
  @IsInt() @Min(1000) intervalMs!: number;
  @IsNumber() @Min(0) @Max(1) maxMiss!: number;
  @IsNumber() @Min(0) @Max(1) minMiss!: number;
  @IsNumber() @Min(1) @Max(8) expRatio!: number;
  @IsNumber() @Min(0) @Max(1) shrinkRatio!: number;
  @IsInt() @Min(0) cooldownMs!: number;
  /** Fewest lookups in a minute that count as evidence for a resize. */
  @IsInt() @Min(1) minLookups!: number;
}

export class LogConfig {
  /** text: Nest's coloured lines; json: one object per line, for journald / CloudWatch Logs. */
  @IsIn(['text', 'json']) format!: 'text' | 'json';
}

export class ShutdownConfig {
  /** SIGTERM: the longest the app waits for requests in flight and a running resize. */
  @IsInt() @Min(0) @Max(600_000) graceMs!: number;
}

export class NearCacheConfig {
  /**
   * Near cache (L1) per front-end, in MiB, or 'auto' (a share of this machine's memory, capped:
   * src/near-cache/near-capacity.ts); 0 turns it off. Instances may differ.
   */
  @ValidateIf((c: NearCacheConfig) => c.capacityMb !== 'auto')
  @IsInt()
  @Min(0)
  @Max(65536)
  capacityMb!: number | 'auto';
  /**
   * The lease the cache nodes this instance starts grant (local provider: their --near-lease-ms;
   * static and EC2 nodes have their own). Front-ends take what a node grants, whatever this says.
   */
  @IsInt() @Min(300) @Max(30000) leaseMs!: number;
  /** A key enters the near cache on its second read within this window. */
  @IsInt() @Min(100) admitWindowMs!: number;
  /** How often near hits are reported to their nodes (statistics, recency). */
  @IsInt() @Min(100) reportIntervalMs!: number;
}

/** Image variants (src/imaging): presets, URL signing, the transform limits. */
export class ImagingConfig {
  /** `NAME:query;NAME:query`, e.g. `thumb:w=320&h=320&fit=cover` (parsed at start: presets.ts). */
  @IsString() presets!: string;
  /** Comma-separated HMAC keys; the first signs, every one verifies (key rotation). */
  @Matches(/^$|^[^,\s]{32,}(,[^,\s]{32,})*$/, {
    message: 'imaging.signingKeys must be comma-separated keys of at least 32 characters',
  })
  signingKeys!: string;
  @IsInt() @Min(1) @Max(16384) maxDimension!: number;
  @IsInt() @Min(1) @Max(100) defaultQuality!: number;
  /** Decompression bombs: a source image with more pixels is refused (sharp limitInputPixels). */
  @IsInt() @Min(1) maxInputPixels!: number;
  @IsInt() @Min(1) maxFrames!: number;
  @IsBoolean() keepIcc!: boolean;
  /** Transforms at once; 0 means one per CPU core. */
  @IsInt() @Min(0) @Max(256) concurrency!: number;
  @IsInt() @Min(0) queueLimit!: number;
  @IsInt() @Min(100) timeoutMs!: number;
}

/**
 * Deadlines, outage answers and crash recovery (see README "Failure semantics"). Every call to
 * S3 or the database ends within its deadline; a dependency that keeps failing is cut off by its
 * circuit breaker for breakerOpenMs, so callers get 503 at once instead of waiting each time.
 */
export class ResilienceConfig {
  /** Whole S3 call, connect included; the SDK call is aborted at this point. */
  @IsInt() @Min(100) storageTimeoutMs!: number;
  @IsInt() @Min(50) storageConnectTimeoutMs!: number;
  /** Whole database operation (an upsert with its retries counts as one). */
  @IsInt() @Min(100) databaseTimeoutMs!: number;
  @IsInt() @Min(50) databaseConnectTimeoutMs!: number;
  /** Callers that may queue for a MySQL connection (database.poolSize) before refusal. */
  @IsInt() @Min(1) databaseQueueLimit!: number;
  /** Retry-After of a 503 answered because a dependency is unavailable. */
  @IsInt() @Min(1) @Max(3600) retryAfterSeconds!: number;
  /** Consecutive unavailability failures that open a dependency's breaker. */
  @IsInt() @Min(1) breakerThreshold!: number;
  /** How long an open breaker answers 503 at once before letting one trial call through. */
  @IsInt() @Min(100) breakerOpenMs!: number;
  @IsInt() @Min(100) outboxSweepIntervalMs!: number;
  /** Pending invalidations older than this are replayed by the sweeper (their writer is gone). */
  @IsInt() @Min(100) outboxGraceMs!: number;
  @IsInt() @Min(100) orphanSweepIntervalMs!: number;
  /** Upload hours each orphan sweep lists (object names start with their hour); > interval + grace. */
  @IsInt() @Min(1) @Max(24 * 366) orphanSweepLookbackHours!: number;
  /** Unreferenced objects younger than this are left alone: their upload may still commit. */
  @IsInt() @Min(1000) orphanGraceMs!: number;
  /** How long a starting instance waits for another one's migrations (MySQL GET_LOCK). */
  @IsInt() @Min(1) migrationLockTimeoutSeconds!: number;
}

/** The leader lease of the singleton jobs (src/coordination/leader-lease.ts). */
export class CoordinationConfig {
  /** A leader that stops renewing is replaced after this, plus at most one renewMs. */
  @IsInt() @Min(1000) leaseMs!: number;
  /** How often the leader renews and the others look; at most a third of leaseMs. */
  @IsInt() @Min(100) renewMs!: number;
}

/** The failure detector and self-healing (src/pool/membership/). */
export class MembershipConfig {
  /** Failed probes or requests in a row after which a node is quarantined (read from storage). */
  @IsInt() @Min(1) quarantineAfterFailures!: number;
  /** A node failing for this long without one success is removed from the pool. */
  @IsInt() @Min(1000) removeAfterMs!: number;
  /** Replace a removed node, so the pool keeps its target size. */
  @IsBoolean() replace!: boolean;
}

export class AppConfig {
  @Type(() => ServerConfig) @ValidateNested() server!: ServerConfig;
  @Type(() => StorageConfig) @ValidateNested() storage!: StorageConfig;
  @Type(() => DatabaseConfig) @ValidateNested() database!: DatabaseConfig;
  @Type(() => PoolConfig) @ValidateNested() pool!: PoolConfig;
  @Type(() => CacheConfig) @ValidateNested() cache!: CacheConfig;
  @Type(() => SecurityConfig) @ValidateNested() security!: SecurityConfig;
  @Type(() => MetricsConfig) @ValidateNested() metrics!: MetricsConfig;
  @Type(() => AutoscalerConfig) @ValidateNested() autoscaler!: AutoscalerConfig;
  @Type(() => LogConfig) @ValidateNested() log!: LogConfig;
  @Type(() => ShutdownConfig) @ValidateNested() shutdown!: ShutdownConfig;
  @Type(() => NearCacheConfig) @ValidateNested() nearCache!: NearCacheConfig;
  @Type(() => LimitsConfig) @ValidateNested() limits!: LimitsConfig;
  @Type(() => RateLimitsConfig) @ValidateNested() rateLimits!: RateLimitsConfig;
  @Type(() => ImagingConfig) @ValidateNested() imaging!: ImagingConfig;
  @Type(() => ResilienceConfig) @ValidateNested() resilience!: ResilienceConfig;
  @Type(() => CoordinationConfig) @ValidateNested() coordination!: CoordinationConfig;
  @Type(() => MembershipConfig) @ValidateNested() membership!: MembershipConfig;
}
