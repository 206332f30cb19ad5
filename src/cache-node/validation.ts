import { NEAR_ID_PATTERN, NEAR_MAX_LEASE_MS } from '../protocol/near-cache.protocol';
import {
  isNodePolicy,
  NODE_MARK_PATTERN,
  NODE_MAX_KEY_BYTES,
  NODE_MAX_RELEASES,
  NODE_REGION_COUNT,
  type NodeConfig,
  type NodeReleasesBody,
} from '../protocol/cache-node.protocol';

/** Result of checking a JSON body: the typed value, or what is wrong with it. */
export type Checked<T> = { ok: true; value: T } | { ok: false; message: string };

export function isNonNegativeInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Distinct regions 0..15, sorted; an empty list is allowed where `allowEmpty`. */
export function checkRegions(value: unknown, allowEmpty: boolean): Checked<number[]> {
  const message = `regions must be a list of distinct integers 0..${NODE_REGION_COUNT - 1}`;
  if (!Array.isArray(value) || (!allowEmpty && value.length === 0)) return { ok: false, message };
  const regions = value as unknown[];
  if (!regions.every((r) => isNonNegativeInt(r) && r < NODE_REGION_COUNT))
    return { ok: false, message };
  const sorted = [...new Set(regions as number[])].sort((a, b) => a - b);
  if (sorted.length !== regions.length) return { ok: false, message };
  return { ok: true, value: sorted };
}

/** Most members an ownership push may name: the pool has at most 8 nodes; room for a resize. */
const MAX_MEMBERS = 64;

export function checkOwnership(
  body: unknown,
): Checked<{ epoch: number; regions: number[]; holdMs: number; members?: string[] }> {
  if (!isObject(body) || !isNonNegativeInt(body.epoch)) {
    return { ok: false, message: 'body must be {epoch: non-negative integer, regions: number[]}' };
  }
  const regions = checkRegions(body.regions, true);
  // Optional: near-cache hold of gained regions (src/cache-node/subscriptions.ts, step 3).
  const holdMs = body.holdMs ?? 0;
  if (!isNonNegativeInt(holdMs) || holdMs > NEAR_MAX_LEASE_MS)
    return { ok: false, message: `holdMs must be an integer 0..${NEAR_MAX_LEASE_MS}` };
  if (!regions.ok) return regions;
  const members = checkMembers(body.members);
  if (!members.ok) return members;
  return {
    ok: true,
    value: { epoch: body.epoch, regions: regions.value, holdMs, members: members.value },
  };
}

/** Optional: the pool's nodes as origins (http://host:port), where transfers may go. */
function checkMembers(members: unknown): Checked<string[] | undefined> {
  if (members === undefined) return { ok: true, value: undefined };
  const message = `members must be at most ${MAX_MEMBERS} URLs like http://host:port`;
  if (!Array.isArray(members) || members.length > MAX_MEMBERS) return { ok: false, message };
  const origins: string[] = [];
  for (const member of members) {
    const url = typeof member === 'string' && URL.canParse(member) ? new URL(member) : undefined;
    if (!url || url.protocol !== 'http:') return { ok: false, message };
    origins.push(url.origin);
  }
  return { ok: true, value: origins };
}

/** Largest capacity accepted: far above any node's memory, low enough to stay exact in a double. */
export const MAX_CAPACITY_BYTES = 2 ** 40;

export function checkConfig(body: unknown): Checked<Partial<NodeConfig>> {
  if (!isObject(body)) return { ok: false, message: 'body must be {capacityBytes?, policy?}' };
  const out: Partial<NodeConfig> = {};
  if (body.capacityBytes !== undefined) {
    if (!isNonNegativeInt(body.capacityBytes) || body.capacityBytes > MAX_CAPACITY_BYTES) {
      return { ok: false, message: `capacityBytes must be an integer 0..${MAX_CAPACITY_BYTES}` };
    }
    out.capacityBytes = body.capacityBytes;
  }
  if (body.policy !== undefined) {
    if (!isNodePolicy(body.policy))
      return { ok: false, message: 'policy must be lru, random or sieve' };
    out.policy = body.policy;
  }
  return { ok: true, value: out };
}

export function checkDrop(body: unknown): Checked<number[]> {
  if (!isObject(body)) return { ok: false, message: 'body must be {regions: number[]}' };
  return checkRegions(body.regions, false);
}

export function checkTransfer(
  body: unknown,
): Checked<{ regions: number[]; target: URL; epoch: number }> {
  if (!isObject(body) || !isNonNegativeInt(body.epoch) || typeof body.target !== 'string') {
    return {
      ok: false,
      message: 'body must be {regions: number[], target: "http://host:port", epoch}',
    };
  }
  const regions = checkRegions(body.regions, false);
  if (!regions.ok) return regions;
  let target: URL;
  try {
    target = new URL(body.target);
  } catch {
    return { ok: false, message: 'target must be a URL like http://host:port' };
  }
  if (target.protocol !== 'http:' || target.pathname !== '/' || target.search !== '') {
    return { ok: false, message: 'target must be a URL like http://host:port' };
  }
  return { ok: true, value: { regions: regions.value, target, epoch: body.epoch } };
}

const RELEASES_SHAPE =
  `body must be {releases: [{key, region, id, version?}] (1..${NODE_MAX_RELEASES}), near?}: ` +
  `key 1..${NODE_MAX_KEY_BYTES} UTF-8 bytes, region 0..${NODE_REGION_COUNT - 1}, ` +
  'id 1..32 lowercase letters or digits, version a non-negative integer, near a subscriber id';

/** POST /v1/releases: every item is checked before any is applied. */
export function checkReleases(body: unknown): Checked<NodeReleasesBody> {
  const bad = { ok: false, message: RELEASES_SHAPE } as const;
  if (!isObject(body) || !Array.isArray(body.releases)) return bad;
  const { releases, near } = body;
  if (releases.length === 0 || releases.length > NODE_MAX_RELEASES) return bad;
  if (near !== undefined && (typeof near !== 'string' || !NEAR_ID_PATTERN.test(near))) return bad;
  const items: NodeReleasesBody['releases'] = [];
  for (const item of releases as unknown[]) {
    if (!isObject(item)) return bad;
    const { key, region, id, version } = item;
    if (typeof key !== 'string' || key.length === 0) return bad;
    if (Buffer.byteLength(key) > NODE_MAX_KEY_BYTES) return bad;
    if (!isNonNegativeInt(region) || region >= NODE_REGION_COUNT) return bad;
    if (typeof id !== 'string' || !NODE_MARK_PATTERN.test(id)) return bad;
    if (version !== undefined && !isNonNegativeInt(version)) return bad;
    items.push({ key, region, id, version });
  }
  return { ok: true, value: { releases: items, near } };
}
