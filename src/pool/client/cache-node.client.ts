import type { OutgoingHttpHeaders } from 'node:http';
import { CacheNodeRequestError } from './cache-node-errors';
import { NodeTransport, type NodeRequest, type NodeResponse } from './cache-node-transport';
import { ReleaseQueue } from './release-queue';
import {
  NODE_CLEAR_BELOW_PARAM,
  NODE_DEFAULT_CONTENT_TYPE,
  NODE_HEADERS,
  NODE_ROUTES,
  NODE_STATS_RESET_PARAM,
  type NodeClearResult,
  type NodeConfig,
  type NodeDropResult,
  type NodeErrorCode,
  type NodeHealth,
  type NodeOwnership,
  type NodeReleaseItem,
  type NodeReleasesAnswer,
  type NodeReleasesBody,
  type NodeStaleReason,
  type NodeStats,
  type NodeTransferResult,
} from '../../protocol/cache-node.protocol';

export { CacheNodeRequestError, CacheNodeUnavailableError } from './cache-node-errors';

export interface CacheNodeClientOptions {
  /** http://host:port */
  url: string;
  secret?: string;
  /** Per call, from sending to the whole answer; default 2000 ms. */
  timeoutMs?: number;
  /** For transfer(), which streams whole regions; default 10 min. */
  transferTimeoutMs?: number;
  /** Keep-alive connections to this node; default 64. */
  maxSockets?: number;
  /**
   * For calls a node answers only after its near-cache subscribers acknowledged (invalidate,
   * setOwnership, clear): timeoutMs plus the longest lease; default timeoutMs.
   */
  waitTimeoutMs?: number;
  /**
   * The longest answer taken from this node (default 16 MiB): set it to the upload limit plus
   * room for JSON, as no cached value can be larger. Longer answers fail as "unavailable".
   */
  maxResponseBytes?: number;
}

/** Room beside the largest value for the node's JSON answers (stats, ownership, errors). */
export const NODE_JSON_HEADROOM_BYTES = 64 * 1024;

/** `epoch` in every result is the node's, from its x-pixpool-epoch header. */
export type CacheGetResult =
  | { kind: 'hit'; value: Buffer; contentType: string; version: number; epoch: number }
  | { kind: 'miss'; lease: string; epoch: number }
  /** A miss while an upload of the key is about to commit: read storage, fill nothing. */
  | { kind: 'pending'; epoch: number }
  | { kind: 'not_owner'; epoch: number; region: number };

export type CacheMarkResult =
  | { kind: 'marked'; removed: boolean; ms: number; epoch: number }
  | { kind: 'not_owner'; epoch: number; region: number };

export type CachePutResult =
  | { kind: 'stored'; epoch: number }
  | { kind: 'stale'; reason: NodeStaleReason; epoch: number }
  | { kind: 'too_large'; maxBytes: number; epoch: number }
  | { kind: 'not_owner'; epoch: number; region: number };

export type CacheInvalidateResult =
  | { kind: 'invalidated'; removed: boolean; epoch: number }
  | { kind: 'not_owner'; epoch: number; region: number };

export interface CachePutOptions {
  version: number;
  contentType?: string;
  /** The lease from a miss: makes this a fill, refused if the key was invalidated since. */
  lease?: string;
}

type NotOwner = { kind: 'not_owner'; epoch: number; region: number };

/**
 * Typed client of one cache node (wire contract: cache-node.protocol.ts). Key calls return
 * discriminated unions for every answer the protocol allows; anything else throws
 * CacheNodeRequestError, and a node that is down or too slow throws CacheNodeUnavailableError.
 * Pass the caller's assignment epoch to key calls so the node can tell a stale caller.
 */
export class CacheNodeClient {
  readonly url: string;
  private readonly transport: NodeTransport;
  private readonly secret: string | undefined;
  private readonly timeoutMs: number;
  private readonly transferTimeoutMs: number;
  private readonly waitTimeoutMs: number;
  /** The node's near-cache lease, once a health answer said it. */
  private nodeLeaseMs = 0;
  private readonly releases = new ReleaseQueue<CacheInvalidateResult>(
    (item, near) => this.releaseOne(item, near),
    (items, near) => this.releaseMany(items, near),
  );

  constructor(options: CacheNodeClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.transport = new NodeTransport(
      this.url,
      options.maxSockets ?? 64,
      options.maxResponseBytes,
    );
    this.secret = options.secret;
    this.timeoutMs = options.timeoutMs ?? 2_000;
    this.transferTimeoutMs = options.transferTimeoutMs ?? 600_000;
    this.waitTimeoutMs = options.waitTimeoutMs ?? this.timeoutMs;
  }

  async get(key: string, region: number, epoch?: number): Promise<CacheGetResult> {
    const res = await this.send('GET', keyPath(key, region), epoch);
    const nodeEpoch = epochOf(res);
    if (res.status === 200) {
      const version = Number(res.headers[NODE_HEADERS.version]);
      if (!Number.isSafeInteger(version) || version < 0) {
        throw this.failure(res, { message: `hit without a valid version (${version})` });
      }
      return {
        kind: 'hit',
        value: res.body,
        contentType: res.headers['content-type'] ?? NODE_DEFAULT_CONTENT_TYPE,
        version,
        epoch: nodeEpoch,
      };
    }
    const body = jsonOf(res);
    if (res.status === 404 && body.error === 'miss' && typeof body.lease === 'string') {
      return { kind: 'miss', lease: body.lease, epoch: nodeEpoch };
    }
    if (res.status === 404 && body.error === 'miss' && body.pending === true) {
      return { kind: 'pending', epoch: nodeEpoch };
    }
    return this.notOwnerOrThrow(res, body);
  }

  async put(
    key: string,
    region: number,
    value: Buffer,
    options: CachePutOptions,
    epoch?: number,
  ): Promise<CachePutResult> {
    let path = `${keyPath(key, region)}&version=${options.version}`;
    if (options.lease !== undefined) path += `&lease=${encodeURIComponent(options.lease)}`;
    const res = await this.send(
      'PUT',
      path,
      epoch,
      value,
      options.contentType ?? NODE_DEFAULT_CONTENT_TYPE,
    );
    const nodeEpoch = epochOf(res);
    if (res.status === 204) return { kind: 'stored', epoch: nodeEpoch };
    const body = jsonOf(res);
    if (res.status === 409 && body.error === 'stale') {
      return { kind: 'stale', reason: body.reason as NodeStaleReason, epoch: nodeEpoch };
    }
    if (res.status === 413 && body.error === 'too_large') {
      return { kind: 'too_large', maxBytes: Number(body.maxBytes), epoch: nodeEpoch };
    }
    return this.notOwnerOrThrow(res, body);
  }

  /** After an upload of `version` committed: drop the cached copy and refuse older writes. */
  async invalidate(
    key: string,
    region: number,
    version: number,
    epoch?: number,
    /** The uploading front-end's near-cache subscriber id: the node leaves it out of the push. */
    nearId?: string,
  ): Promise<CacheInvalidateResult> {
    let path = `${keyPath(key, region)}&version=${version}`;
    if (nearId !== undefined) path += `&near=${nearId}`;
    const res = await this.send('DELETE', path, epoch, undefined, undefined, this.waitMs);
    const body = jsonOf(res);
    if (res.status === 200)
      return { kind: 'invalidated', removed: body.removed === true, epoch: epochOf(res) };
    return this.notOwnerOrThrow(res, body);
  }

  /**
   * An upload of `key` is about to commit: the node drops its copy and answers misses without a
   * lease until mark `id` is released or its granted ms run out (src/cache-node/pending-keys.ts).
   * Answered once its near-cache subscribers went pending too, like invalidate.
   */
  async markPending(
    key: string,
    region: number,
    mark: { id: string; ms: number },
    epoch?: number,
    nearId?: string,
  ): Promise<CacheMarkResult> {
    let path = `${keyPath(key, region)}&pending=${mark.id}&ms=${mark.ms}`;
    if (nearId !== undefined) path += `&near=${nearId}`;
    const res = await this.send('DELETE', path, epoch, undefined, undefined, this.waitMs);
    const body = jsonOf(res);
    if (res.status === 200 && typeof body.ms === 'number') {
      return { kind: 'marked', removed: body.removed === true, ms: body.ms, epoch: epochOf(res) };
    }
    return this.notOwnerOrThrow(res, body);
  }

  /**
   * Ends mark `id`; with the committed `version`, nothing older is stored from then on. Sent at
   * once, or with the others that queued while one was in flight (release-queue.ts).
   */
  release(
    key: string,
    region: number,
    id: string,
    version: number | undefined,
    /** The uploading front-end's subscriber id: the node does not tell it its own release. */
    nearId?: string,
  ): Promise<CacheInvalidateResult> {
    return this.releases.push({ key, region, id, version }, nearId);
  }

  private async releaseOne(
    { key, region, id, version }: NodeReleaseItem,
    nearId: string | undefined,
  ): Promise<CacheInvalidateResult> {
    let path = `${keyPath(key, region)}&release=${id}`;
    if (version !== undefined) path += `&version=${version}`;
    if (nearId !== undefined) path += `&near=${nearId}`;
    const res = await this.send('DELETE', path, undefined);
    const body = jsonOf(res);
    if (res.status === 200)
      return { kind: 'invalidated', removed: body.removed === true, epoch: epochOf(res) };
    return this.notOwnerOrThrow(res, body);
  }

  private async releaseMany(
    releases: NodeReleaseItem[],
    near: string | undefined,
  ): Promise<CacheInvalidateResult[]> {
    const body: NodeReleasesBody = { releases, near };
    const json = Buffer.from(JSON.stringify(body));
    const res = await this.send('POST', NODE_ROUTES.releases, undefined, json, 'application/json');
    const parsed = jsonOf(res);
    if (res.status !== 200 || !Array.isArray(parsed.results)) throw this.failure(res, parsed);
    const epoch = epochOf(res);
    return (parsed.results as NodeReleasesAnswer['results']).map((result) =>
      'error' in result
        ? { kind: 'not_owner', epoch: result.epoch, region: result.region }
        : { kind: 'invalidated', removed: result.removed === true, epoch },
    );
  }

  /** clear(), and every key pending under mark `id` until released (delete_all). */
  clearPending(mark: { id: string; ms: number }): Promise<NodeClearResult> {
    const path = `${NODE_ROUTES.keys}?pending=${mark.id}&ms=${mark.ms}`;
    return this.admin('DELETE', path, undefined, this.waitMs);
  }

  releaseAll(id: string): Promise<NodeClearResult> {
    return this.admin('DELETE', `${NODE_ROUTES.keys}?release=${id}`);
  }

  /**
   * Drops everything. `belowVersion` (a data clear: every version below it was deleted) makes
   * the node refuse later writes below it too, such as transfer frames still in flight.
   */
  clear(belowVersion?: number): Promise<NodeClearResult> {
    const query = belowVersion === undefined ? '' : `?${NODE_CLEAR_BELOW_PARAM}=${belowVersion}`;
    return this.admin('DELETE', `${NODE_ROUTES.keys}${query}`, undefined, this.waitMs);
  }

  async health(): Promise<NodeHealth> {
    const health = await this.admin<NodeHealth>('GET', NODE_ROUTES.health);
    if (Number.isSafeInteger(health.nearLeaseMs)) this.nodeLeaseMs = health.nearLeaseMs;
    return health;
  }

  /** A request the node may hold for its near-cache subscribers: up to its lease longer. */
  private get waitMs(): number {
    return Math.max(this.waitTimeoutMs, this.timeoutMs + this.nodeLeaseMs);
  }

  getConfig(): Promise<NodeConfig> {
    return this.admin('GET', NODE_ROUTES.config);
  }

  setConfig(change: Partial<NodeConfig>): Promise<NodeConfig> {
    return this.admin('PUT', NODE_ROUTES.config, change);
  }

  /** With resetInterval, the answer's `interval` is the one just closed and a new one starts. */
  stats(options: { resetInterval?: boolean } = {}): Promise<NodeStats> {
    const query = options.resetInterval ? `?${NODE_STATS_RESET_PARAM}=interval` : '';
    return this.admin('GET', `${NODE_ROUTES.stats}${query}`);
  }

  getOwnership(): Promise<NodeOwnership> {
    return this.admin('GET', NODE_ROUTES.ownership);
  }

  /**
   * Replaces the node's regions; an epoch older than the node's throws (code 'stale_epoch').
   * holdMs: invalidations of gained regions wait that long (near cache, see subscriptions.ts).
   */
  /** `members`: the pool's node URLs, the only targets this node's transfers may go to. */
  setOwnership(
    epoch: number,
    regions: number[],
    holdMs = 0,
    members?: string[],
  ): Promise<NodeOwnership> {
    const body = {
      epoch,
      regions,
      ...(holdMs > 0 ? { holdMs } : {}),
      ...(members ? { members } : {}),
    };
    return this.admin('PUT', NODE_ROUTES.ownership, body, this.waitMs);
  }

  /** Streams the regions to `targetUrl` (put-if-newer there), then drops them here. */
  transfer(regions: number[], targetUrl: string, epoch: number): Promise<NodeTransferResult> {
    return this.admin(
      'POST',
      NODE_ROUTES.transfer,
      { regions, target: targetUrl, epoch },
      this.transferTimeoutMs,
    );
  }

  drop(regions: number[]): Promise<NodeDropResult> {
    return this.admin('POST', NODE_ROUTES.drop, { regions });
  }

  /** Closes the keep-alive connections. */
  close(): void {
    this.transport.close();
  }

  private async admin<T>(
    method: NodeRequest['method'],
    path: string,
    body?: object,
    timeoutMs?: number,
  ): Promise<T> {
    const json = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const res = await this.send(method, path, undefined, json, 'application/json', timeoutMs);
    const parsed = jsonOf(res);
    if (res.status !== 200) throw this.failure(res, parsed);
    return parsed as T;
  }

  private send(
    method: NodeRequest['method'],
    path: string,
    epoch: number | undefined,
    body?: Buffer,
    contentType?: string,
    timeoutMs = this.timeoutMs,
  ): Promise<NodeResponse> {
    const headers: OutgoingHttpHeaders = {};
    if (this.secret !== undefined) headers[NODE_HEADERS.secret] = this.secret;
    if (epoch !== undefined) headers[NODE_HEADERS.epoch] = String(epoch);
    if (body) {
      headers['content-type'] = contentType;
      headers['content-length'] = body.length;
    }
    const retry = path !== NODE_ROUTES.transfer;
    // A request the node may hold for its subscribers: alive (102) within the plain timeout.
    const aliveWithinMs = timeoutMs === this.waitMs ? this.timeoutMs : undefined;
    return this.transport.send({ method, path, headers, body, timeoutMs, aliveWithinMs, retry });
  }

  private notOwnerOrThrow(res: NodeResponse, body: Record<string, unknown>): NotOwner {
    if (res.status === 421 && body.error === 'not_owner') {
      return { kind: 'not_owner', epoch: Number(body.epoch), region: Number(body.region) };
    }
    throw this.failure(res, body);
  }

  private failure(res: NodeResponse, body: Record<string, unknown>): CacheNodeRequestError {
    const code = typeof body.error === 'string' ? (body.error as NodeErrorCode) : undefined;
    const detail =
      typeof body.message === 'string' ? body.message : res.body.toString('utf8', 0, 200);
    return new CacheNodeRequestError(this.url, res.status, code, detail);
  }
}

function keyPath(key: string, region: number): string {
  return `${NODE_ROUTES.keyPrefix}${encodeURIComponent(key)}?region=${region}`;
}

function epochOf(res: NodeResponse): number {
  return Number(res.headers[NODE_HEADERS.epoch] ?? -1);
}

function jsonOf(res: NodeResponse): Record<string, unknown> {
  if (!String(res.headers['content-type']).startsWith('application/json')) return {};
  try {
    const parsed: unknown = JSON.parse(res.body.toString('utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
