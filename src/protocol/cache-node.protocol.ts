import type { NearNodeStats } from './near-cache.protocol';
import { REGION_COUNT } from './hash-ring';

/**
 * Wire contract between the app (CacheNodeClient) and a cache node (src/cache-node), imported by
 * both sides so a renamed header or route breaks the build instead of the pool.
 *
 * Key routes, `<key>` = encodeURIComponent(key) (one path segment, <= 1024 UTF-8 bytes), R = the
 * key's region 0..15 (the caller hashes), V = version (safe integer):
 *   GET    /v1/keys/<key>?region=R             200 value bytes (Content-Type, x-pixpool-version)
 *                                              | 404 {error:'miss', lease} | 421 not_owner
 *                                              | 404 {error:'miss', pending:true}: no lease, the
 *                                              key is pending (answer it from storage, unfilled)
 *   PUT    /v1/keys/<key>?region=R&version=V[&lease=L]   body = value bytes, Content-Type kept
 *                                              204 stored | 409 {error:'stale', reason}
 *                                              | 413 {error:'too_large', maxBytes} | 421
 *          with lease: a fill (see src/cache-node/store.ts); without: put-if-newer for writers
 *          that hold the newest version (write-through, tools), not for filling a miss.
 *   DELETE /v1/keys/<key>?region=R&version=V[&near=S]   invalidate after an upload of V
 *                                              committed: 200 {removed} | 421 (applied locally all
 *                                              the same; it counts only once an owner answered
 *                                              200). Answered once the near-cache subscribers of R
 *                                              dropped the key; S names the uploading front-end's
 *                                              own subscriber id, which is left out of the push
 *                                              (it drops its copy itself when the answer arrives).
 *   DELETE /v1/keys/<key>?region=R&pending=M&ms=T[&near=S]   an upload is about to commit: drop the
 *                                              copy, void the lease, and until the mark M runs out
 *                                              (T ms, capped by the node) or is released, answer
 *                                              reads with a miss without lease and refuse every
 *                                              write of the key. Answered like an invalidation (once
 *                                              the subscribers went pending too): 200 {removed, ms}
 *                                              with the granted ms | 421 (applied all the same).
 *   DELETE /v1/keys/<key>?region=R&release=M[&version=V][&near=S]   the upload committed V (or,
 *                                              without V, never will): mark M goes, a tombstone of
 *                                              V stays; answered at once (the push to subscribers,
 *                                              S left out, is not waited for): 200 {removed} | 421.
 *          (src/cache-node/pending-keys.ts and src/frontend/write-fence.ts argue why.)
 * Every key answer carries x-pixpool-epoch (the node's); 421 = {error:'not_owner', epoch, region}.
 *
 * Admin routes (JSON; the secret header on all but /health):
 *   GET  /health                          {status:'ok', epoch, regions, nearLeaseMs, boot}
 *                                         (a node starts at epoch 0 owning nothing; boot is new
 *                                         on every start)
 *   DELETE /v1/keys[?below=V]             clear entries, leases, tombstones → {entries}; with
 *                                         below (a data clear: every version below V is deleted),
 *                                         refuse any later write below V, e.g. a transfer frame
 *                                         still in flight (store.ts, rule 4)
 *   DELETE /v1/keys?pending=M&ms=T        the same, and every key pending under mark M (delete_all)
 *                                         → {entries, ms}; ?release=M ends that mark → {entries: 0}
 *   GET|PUT /v1/config                    {capacityBytes, policy}; PUT applies at once
 *   GET  /v1/stats[?reset=interval]       NodeStats; with reset, `interval` is the one just closed
 *   GET|PUT /v1/ownership                 {epoch, regions}; PUT with an older epoch → 409 stale_epoch;
 *                                         PUT may name the pool's members (["http://host:port"]), the
 *                                         only targets /v1/transfer streams to
 *                                         (PUT may add holdMs: near-cache hold of gained regions;
 *                                         the node holds them at least its own near lease)
 *   GET  /v1/subscribe (Upgrade)          near-cache subscription (src/protocol/near-cache.protocol.ts)
 *   POST /v1/transfer                     {regions, target, epoch} → NodeTransferResult (see transfer.ts);
 *                                         a target not among the members → 403 not_member
 *   POST /v1/import?epoch=E               framed stream (src/cache-node/framing.ts) → NodeImportResult
 *   POST /v1/drop                         {regions} → {entries, bytes}
 *   POST /v1/releases                     {releases: [{key, region, id, version?}], near?} →
 *                                         {results: [{removed} | {error:'not_owner', epoch, region}]}:
 *                                         each as DELETE ...&release=, in order; one bad item
 *                                         refuses the whole body (400) and applies none. A
 *                                         front-end sends the releases that queued up while its
 *                                         previous one was in flight (src/pool/client/release-queue.ts).
 * Errors: 4xx/5xx with {error: NodeErrorCode, message}. Values are raw bytes, never base64.
 */

export const NODE_HEADERS = {
  /** Node secret; every route but /health needs it when the node has one. */
  secret: 'x-pixpool-secret',
  /** Request: the caller's assignment epoch. Response (every key route): the node's epoch. */
  epoch: 'x-pixpool-epoch',
  /** Response of a hit: the entry's version. */
  version: 'x-pixpool-version',
} as const;

/** Query parameter of a data clear (DELETE /v1/keys): the version everything below is deleted. */
export const NODE_CLEAR_BELOW_PARAM = 'below';

export const NODE_ROUTES = {
  health: '/health',
  keys: '/v1/keys',
  keyPrefix: '/v1/keys/',
  config: '/v1/config',
  stats: '/v1/stats',
  ownership: '/v1/ownership',
  transfer: '/v1/transfer',
  import: '/v1/import',
  drop: '/v1/drop',
  releases: '/v1/releases',
} as const;

export const NODE_DEFAULT_PORT = 5001;
export const NODE_REGION_COUNT = REGION_COUNT;
/** Longest key in UTF-8 bytes; longer → 400 bad_key. */
export const NODE_MAX_KEY_BYTES = 1024;
/** Longest Content-Type kept with a value (it is framed with a one-byte length in transfers). */
export const NODE_MAX_CONTENT_TYPE_BYTES = 255;
/** Largest JSON body an admin route reads. */
export const NODE_MAX_JSON_BYTES = 64 * 1024;
export const NODE_DEFAULT_CONTENT_TYPE = 'application/octet-stream';
/** `GET /v1/stats?reset=interval` closes the current interval and opens a new one. */
export const NODE_STATS_RESET_PARAM = 'reset';

export const NODE_POLICIES = ['lru', 'random', 'sieve'] as const;
export type NodePolicy = (typeof NODE_POLICIES)[number];

export function isNodePolicy(value: unknown): value is NodePolicy {
  return typeof value === 'string' && (NODE_POLICIES as readonly string[]).includes(value);
}

/** Error codes in `{ error }` bodies, one per distinct cause so callers can branch on them. */
export type NodeErrorCode =
  | 'miss'
  | 'not_owner'
  | 'stale'
  | 'stale_epoch'
  | 'still_owner'
  | 'not_member'
  | 'too_large'
  | 'unauthorized'
  | 'not_found'
  | 'method_not_allowed'
  | 'bad_key'
  | 'bad_region'
  | 'bad_version'
  | 'bad_lease'
  | 'bad_near'
  | 'bad_epoch'
  | 'bad_content_type'
  | 'bad_request'
  | 'truncated'
  | 'timeout'
  | 'transfer_failed'
  | 'internal';

export interface NodeErrorBody {
  error: NodeErrorCode;
  message?: string;
}

/** 404 on GET: the key is absent; fill it with PUT ...&lease=<lease> after reading the truth. */
export interface NodeMissBody {
  error: 'miss';
  lease?: string;
  /** The key is pending (an upload is about to commit it): no fill, no near copy. */
  pending?: true;
}

/** 421: the node does not own the key's region now; `epoch` is the node's. */
export interface NodeNotOwnerBody {
  error: 'not_owner';
  epoch: number;
  region: number;
}

/** Why a PUT or an imported entry was refused (409 `{error:'stale', reason}`). */
export type NodeStaleReason = 'version' | 'tombstone' | 'lease' | 'pending';

export interface NodeStaleBody {
  error: 'stale';
  reason: NodeStaleReason;
}

export interface NodeTooLargeBody {
  error: 'too_large';
  maxBytes: number;
}

/** DELETE /v1/keys/:key answer (200). */
export interface NodeInvalidateBody {
  removed: boolean;
  /** A pending mark's granted lifetime (DELETE ...&pending=). */
  ms?: number;
}

/** A pending mark's id: chosen by the uploader, so a retried mark or release is idempotent. */
export const NODE_MARK_PATTERN = /^[0-9a-z]{1,32}$/;

/** One item of POST /v1/releases: what DELETE /v1/keys/<key>?region=&release=&version= says. */
export interface NodeReleaseItem {
  key: string;
  region: number;
  id: string;
  version?: number;
}

export interface NodeReleasesBody {
  releases: NodeReleaseItem[];
  /** The uploading front-end's subscriber id, left out of the push (as &near= on one key). */
  near?: string;
}

/** Most items in one POST /v1/releases; the body must also fit NODE_MAX_JSON_BYTES. */
export const NODE_MAX_RELEASES = 256;

export interface NodeReleasesAnswer {
  results: Array<{ removed: boolean } | NodeNotOwnerBody>;
}

export interface NodeHealth {
  status: 'ok';
  epoch: number;
  regions: number[];
  /** The near-cache lease this node grants: every wait for its subscribers derives from it. */
  nearLeaseMs: number;
  /** Random per process start: a new one means the node restarted and forgot everything. */
  boot: string;
}

export interface NodeConfig {
  capacityBytes: number;
  policy: NodePolicy;
}

export interface NodeOwnership {
  epoch: number;
  regions: number[];
}

/**
 * Monotonic counters. Key requests with valid parameters: requests = gets + puts + deletes +
 * notOwner + aborted; gets = hits + misses; puts = stored + refused + tooLarge. Miss rate for the
 * manager: misses / gets. `aborted`: PUT bodies cut off before their end.
 */
export interface NodeCounters {
  requests: number;
  gets: number;
  hits: number;
  misses: number;
  puts: number;
  stored: number;
  refused: number;
  tooLarge: number;
  deletes: number;
  notOwner: number;
  aborted: number;
  evictions: number;
  imported: number;
}

export interface NodeIntervalStats extends NodeCounters {
  startedAt: string;
  ms: number;
}

export interface NodeStats {
  /** Gauges, as of now. */
  items: number;
  bytesUsed: number;
  capacityBytes: number;
  policy: NodePolicy;
  /** Bytes charged per entry on top of key, content type and the value's block (src/cache-node/entry.ts). */
  entryOverheadBytes: number;
  /** Freed value blocks kept for reuse, outside bytesUsed (src/cache-node/value-pool.ts). */
  pooledBytes: number;
  leases: number;
  tombstones: number;
  epoch: number;
  startedAt: string;
  uptimeMs: number;
  sinceStart: NodeCounters;
  /** The interval running now, or (with ?reset=interval) the one just closed. */
  interval: NodeIntervalStats;
  /** Near-cache subscriptions held by this node (src/protocol/near-cache.protocol.ts). */
  near?: NearNodeStats;
}

export interface NodeTransferRequest {
  regions: number[];
  /** Receiving node, http://host:port. */
  target: string;
  /** Epoch of the assignment that moved the regions; the target must be at that epoch. */
  epoch: number;
}

/** What a receiver did with one import stream. */
export interface NodeImportResult {
  imported: number;
  refused: number;
  tombstones: number;
  bytes: number;
}

export interface NodeTransferResult {
  entries: number;
  tombstones: number;
  bytes: number;
  ms: number;
  target: NodeImportResult;
}

export interface NodeDropRequest {
  regions: number[];
}

export interface NodeDropResult {
  entries: number;
  bytes: number;
}

export interface NodeClearResult {
  entries: number;
  /** A pending mark's granted lifetime (DELETE /v1/keys?pending=). */
  ms?: number;
}
