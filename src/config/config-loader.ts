import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as yaml from 'js-yaml';
import { AppConfig } from './app-config';
import { KEY_COLUMN_LENGTH } from '../common/image-key';

type Tree = { [key: string]: Leaf | Tree };
type Leaf = string | number | boolean;

export class ConfigError extends Error {}

export interface ConfigSources {
  /** Environment to read PIXPOOL_* overrides from (the process env in main.ts). */
  env?: Record<string, string | undefined>;
  /** Programmatic overrides, applied last (tests). */
  overrides?: DeepPartial<Tree>;
}
type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

/** The package root: the folder that holds config/default.yaml, from src/ or dist/src/ alike. */
export function packageRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'config', 'default.yaml'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new ConfigError('config: cannot find config/default.yaml');
    dir = parent;
  }
  return dir;
}

/**
 * default.yaml, then the file named by PIXPOOL_CONFIG, then PIXPOOL_<SECTION>_<FIELD> variables,
 * then overrides. Every field must exist in default.yaml: an unknown field in a file is an error
 * (a typo must not be silently ignored), and the defaults are what define the variable names.
 */
export function loadConfig(sources: ConfigSources = {}): AppConfig {
  const env = sources.env ?? {};
  const defaults = readYaml(path.join(packageRoot(), 'config', 'default.yaml'));
  let merged = defaults;
  if (env.PIXPOOL_CONFIG) merged = mergeKnown(merged, readYaml(env.PIXPOOL_CONFIG), '');
  merged = mergeKnown(merged, envOverrides(defaults, env), '');
  if (sources.overrides) merged = mergeKnown(merged, sources.overrides as Tree, '');
  return validate(merged);
}

/** The environment variable that overrides a field, e.g. pool.ec2.startTimeoutMs → PIXPOOL_POOL_EC2_START_TIMEOUT_MS. */
export function envName(fieldPath: string[]): string {
  return (
    'PIXPOOL_' +
    fieldPath
      .map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2'))
      .join('_')
      .toUpperCase()
  );
}

function readYaml(file: string): Tree {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`config: cannot read ${file}: ${(err as Error).message}`);
  }
  const parsed: unknown = yaml.load(text);
  if (parsed === undefined || parsed === null) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`config: ${file} must hold a mapping of sections`);
  }
  return parsed as Tree;
}

function envOverrides(
  defaults: Tree,
  env: Record<string, string | undefined>,
  at: string[] = [],
): Tree {
  const out: Tree = {};
  for (const [key, value] of Object.entries(defaults)) {
    const fieldPath = [...at, key];
    if (isTree(value)) {
      const nested = envOverrides(value, env, fieldPath);
      if (Object.keys(nested).length > 0) out[key] = nested;
      continue;
    }
    const raw = env[envName(fieldPath)];
    if (raw !== undefined) out[key] = coerce(raw, value);
  }
  return out;
}

/** Read an env string as the type of its default; leave it a string when it is not, so validation names the field. */
function coerce(raw: string, like: Leaf): Leaf {
  const numeric = raw.trim() !== '' && !Number.isNaN(Number(raw));
  // A number whose default is 'auto' (nearCache.capacityMb) is a number too.
  if ((typeof like === 'number' || like === 'auto') && numeric) return Number(raw);
  if (typeof like === 'boolean' && /^(true|false|1|0)$/i.test(raw)) return /^(true|1)$/i.test(raw);
  return raw;
}

function mergeKnown(base: Tree, extra: Tree, at: string): Tree {
  const out: Tree = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const field = at ? `${at}.${key}` : key;
    if (!(key in base)) throw new ConfigError(`config: unknown field ${field}`);
    const current = base[key];
    if (isTree(current)) {
      if (!isTree(value)) throw new ConfigError(`config: ${field} must be a section`);
      out[key] = mergeKnown(current, value, field);
    } else {
      if (isTree(value)) throw new ConfigError(`config: ${field} must be a value, not a section`);
      out[key] = value;
    }
  }
  return out;
}

function isTree(value: unknown): value is Tree {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function validate(plain: Tree): AppConfig {
  const config = plainToInstance(AppConfig, plain);
  const errors = validateSync(config, { forbidUnknownValues: true });
  const problems = errors.flatMap((e) => describe(e, ''));
  problems.push(...crossFieldProblems(config));
  if (problems.length > 0) throw new ConfigError(`invalid config:\n  ${problems.join('\n  ')}`);
  return config;
}

function describe(error: ValidationError, at: string): string[] {
  const field = at ? `${at}.${error.property}` : error.property;
  const got = isSecretField(field) ? '<redacted>' : JSON.stringify(error.value);
  const own = Object.values(error.constraints ?? {}).map(
    (message) => `${field}: ${message.replace(/^\S+ /, '')} (got ${got})`,
  );
  return [...own, ...(error.children ?? []).flatMap((child) => describe(child, field))];
}

/**
 * Config errors reach terminals, CI logs and journald: a value that may be a credential is never
 * printed. Every security.* field, and the database's credentials (its url carries a password).
 */
function isSecretField(field: string): boolean {
  return field.startsWith('security.') || /^database\.(url|user|password)$/.test(field);
}

/** A guessable token is no token: at least this long (24 random bytes in base64url are 32). */
export const MIN_SECRET_LENGTH = 32;

function crossFieldProblems(c: AppConfig): string[] {
  const problems: string[] = [];
  if (c.pool.min > c.pool.max) problems.push('pool.min: must not exceed pool.max');
  if (c.pool.initial < c.pool.min || c.pool.initial > c.pool.max) {
    problems.push('pool.initial: must lie within pool.min..pool.max');
  }
  if (c.storage.driver === 's3' && !c.storage.bucket) {
    problems.push('storage.bucket: required when storage.driver is s3');
  }
  if (c.database.driver === 'mysql' && !c.database.url && !c.database.host) {
    problems.push('database.url: required (or database.host) when database.driver is mysql');
  }
  if (c.pool.provider === 'static' && !c.pool.staticNodes) {
    problems.push('pool.staticNodes: required when pool.provider is static');
  }
  if (c.autoscaler.minMiss >= c.autoscaler.maxMiss) {
    problems.push('autoscaler.minMiss: must be below autoscaler.maxMiss');
  }
  problems.push(...securityProblems(c));
  if (c.limits.headersTimeoutMs > c.limits.requestTimeoutMs) {
    problems.push('limits.headersTimeoutMs: must not exceed limits.requestTimeoutMs');
  }
  const { storageTimeoutMs, databaseTimeoutMs } = c.resilience;
  if (c.pool.pendingMs < storageTimeoutMs + 2 * databaseTimeoutMs) {
    problems.push(
      'pool.pendingMs: must be at least resilience.storageTimeoutMs + twice ' +
        'resilience.databaseTimeoutMs (an upload writes its object and commits within its pending mark)',
    );
  }
  if (c.coordination.renewMs * 3 > c.coordination.leaseMs) {
    problems.push('coordination.renewMs: must be at most a third of coordination.leaseMs');
  }
  return problems;
}

/** Safe by default: what would expose the manager or the cache nodes stops the start. */
function securityProblems(c: AppConfig): string[] {
  const problems: string[] = [];
  const { adminToken, nodeSecret, allowInsecureNetwork } = c.security;
  if (!isLoopbackHost(c.server.host) && !adminToken && !allowInsecureNetwork) {
    problems.push(
      `server.host: refusing to listen on ${c.server.host} (beyond loopback) without ` +
        'security.adminToken: set security.adminToken (PIXPOOL_SECURITY_ADMIN_TOKEN), bind ' +
        '127.0.0.1, or set security.allowInsecureNetwork: true to accept an unauthenticated ' +
        'manager on this network',
    );
  }
  if ((c.pool.provider === 'static' || c.pool.provider === 'ec2') && !nodeSecret) {
    problems.push(
      `security.nodeSecret: required when pool.provider is ${c.pool.provider} (its nodes listen ` +
        'beyond loopback; set PIXPOOL_SECURITY_NODE_SECRET here and PIXPOOL_NODE_SECRET on the nodes)',
    );
  }
  for (const [field, value] of [
    ['adminToken', adminToken],
    ['nodeSecret', nodeSecret],
  ] as const) {
    if (typeof value === 'string' && value !== '' && value.length < MIN_SECRET_LENGTH) {
      problems.push(
        `security.${field}: must be at least ${MIN_SECRET_LENGTH} characters (got ` +
          `${value.length}; e.g. openssl rand -base64 32)`,
      );
    }
  }
  if (c.server.maxKeyLength > KEY_COLUMN_LENGTH) {
    problems.push(
      `server.maxKeyLength: must not exceed ${KEY_COLUMN_LENGTH}, the length of the key column ` +
        `(got ${c.server.maxKeyLength})`,
    );
  }
  return problems;
}

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
