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
}

export class Ec2Config {
  @IsString() region!: string;
  /** Tag that marks the pool's instances, as Key=Value. */
  @Matches(/^$|^[^=]+=.*$/, { message: 'ec2.tag must look like Key=Value' }) tag!: string;
  /** Alternative to the tag: comma-separated instance ids. */
  @IsString() instanceIds!: string;
  @IsInt() @Min(1) @Max(65535) port!: number;
  @IsString() launchTemplate!: string;
  @IsInt() @Min(1000) startTimeoutMs!: number;
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
  @Type(() => CoordinationConfig) @ValidateNested() coordination!: CoordinationConfig;
  @Type(() => MembershipConfig) @ValidateNested() membership!: MembershipConfig;
}
