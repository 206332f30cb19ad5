import { isNodePolicy, NODE_DEFAULT_PORT, NODE_POLICIES } from '../protocol/cache-node.protocol';
import {
  NEAR_DEFAULT_LEASE_MS,
  NEAR_MAX_LEASE_MS,
  NEAR_MIN_LEASE_MS,
} from '../protocol/near-cache.protocol';
import type { CacheNodeOptions } from './context';
import { MAX_CAPACITY_BYTES } from './validation';

export const SECRET_ENV = 'PIXPOOL_NODE_SECRET';
const MIB = 1024 * 1024;

export class ArgsError extends Error {
  override readonly name = 'ArgsError';
}

export const USAGE = `usage: node dist/src/cache-node/main.js [options]
  --port N               port to listen on (default ${NODE_DEFAULT_PORT}; 0 picks a free one)
  --host H               address to bind (default 127.0.0.1; others need a secret)
  --capacity-mb N        cache capacity in MiB (default 64)
  --capacity-bytes N     cache capacity in bytes (instead of --capacity-mb)
  --policy P             ${NODE_POLICIES.join(' | ')} (default lru)
  --lease-ttl-ms N       how long a miss's fill lease stays valid (default 10000)
  --near-lease-ms N      near-cache lease granted to front-ends, and how long an upload may wait
                         for one cut off (default ${NEAR_DEFAULT_LEASE_MS}, ${NEAR_MIN_LEASE_MS}..${NEAR_MAX_LEASE_MS})
  --tombstone-ttl-ms N   how long an invalidation is remembered exactly (default 120000)
  --headers-timeout-ms N request headers must arrive within this (default 20000)
  --request-timeout-ms N a whole request, region imports included, within this (default 120000)
  --keep-alive-timeout-ms N  idle keep-alive connections are closed after this (default 5000)
  --max-connections N    open connections at most; more are dropped (default 1024)
environment:
  ${SECRET_ENV}    node secret, required from callers (never pass it in argv: ps shows argv)`;

/** The node's whole configuration, from argv and the environment; the only reader of either. */
export function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv): CacheNodeOptions {
  const flags = readFlags(argv);
  const secret = env[SECRET_ENV] ? env[SECRET_ENV] : undefined;
  const host = flags.get('host') ?? '127.0.0.1';
  if (secret === undefined && !isLoopback(host)) {
    throw new ArgsError(
      `refusing to listen on ${host} without a secret: set ${SECRET_ENV}, or bind 127.0.0.1`,
    );
  }
  const policy = flags.get('policy') ?? 'lru';
  if (!isNodePolicy(policy))
    throw new ArgsError(`--policy must be one of ${NODE_POLICIES.join(', ')}`);
  const capacityBytes = flags.has('capacity-bytes')
    ? number(flags, 'capacity-bytes', 0, MAX_CAPACITY_BYTES, 0)
    : Math.floor(number(flags, 'capacity-mb', 0, MAX_CAPACITY_BYTES / MIB, 64) * MIB);
  return {
    port: number(flags, 'port', 0, 65535, NODE_DEFAULT_PORT),
    host,
    capacityBytes,
    policy,
    secret,
    leaseTtlMs: number(flags, 'lease-ttl-ms', 1, 3_600_000, 10_000),
    leaseMaxBytes: 16 * MIB,
    nearLeaseMs: number(
      flags,
      'near-lease-ms',
      NEAR_MIN_LEASE_MS,
      NEAR_MAX_LEASE_MS,
      NEAR_DEFAULT_LEASE_MS,
    ),
    tombstoneTtlMs: number(flags, 'tombstone-ttl-ms', 1, 86_400_000, 120_000),
    tombstoneMaxBytes: 16 * MIB,
    headersTimeoutMs: number(flags, 'headers-timeout-ms', 100, 3_600_000, 20_000),
    requestTimeoutMs: number(flags, 'request-timeout-ms', 100, 86_400_000, 120_000),
    keepAliveTimeoutMs: number(flags, 'keep-alive-timeout-ms', 100, 3_600_000, 5_000),
    maxConnections: number(flags, 'max-connections', 1, 1_000_000, 1024),
  };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

const KNOWN = new Set([
  'port',
  'host',
  'capacity-mb',
  'capacity-bytes',
  'policy',
  'lease-ttl-ms',
  'near-lease-ms',
  'tombstone-ttl-ms',
  'headers-timeout-ms',
  'request-timeout-ms',
  'keep-alive-timeout-ms',
  'max-connections',
]);

function readFlags(argv: readonly string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new ArgsError(`unexpected argument ${arg}`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    if (name === 'secret')
      throw new ArgsError(`pass the secret in ${SECRET_ENV}, not in argv (ps shows argv)`);
    if (!KNOWN.has(name)) throw new ArgsError(`unknown option --${name}`);
    const value = eq < 0 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined || value === '') throw new ArgsError(`--${name} needs a value`);
    flags.set(name, value);
  }
  return flags;
}

function number(
  flags: Map<string, string>,
  name: string,
  min: number,
  max: number,
  fallback: number,
): number {
  const text = flags.get(name);
  if (text === undefined) return fallback;
  const value = Number(text);
  const integer = name !== 'capacity-mb';
  if (
    !Number.isFinite(value) ||
    value < min ||
    value > max ||
    (integer && !Number.isInteger(value))
  ) {
    throw new ArgsError(
      `--${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${text}`,
    );
  }
  return value;
}
