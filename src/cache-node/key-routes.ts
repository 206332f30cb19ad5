import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  NODE_DEFAULT_CONTENT_TYPE,
  NODE_HEADERS,
  NODE_MARK_PATTERN,
  NODE_MAX_CONTENT_TYPE_BYTES,
  NODE_MAX_KEY_BYTES,
  NODE_REGION_COUNT,
  NODE_ROUTES,
  type NodeInvalidateBody,
  type NodeMissBody,
  type NodeStaleBody,
  type NodeTooLargeBody,
} from '../protocol/cache-node.protocol';
import { NEAR_ID_PATTERN } from '../protocol/near-cache.protocol';
import { readBody, type BodyResult } from './body';
import type { PoolResponse } from './pool-response';
import { isValidContentType } from './content-types';
import type { NodeContext } from './context';
import { ABSENT, intParam, MALFORMED, parseNonNegativeInt, stringParam } from './query';
import { fillFromOlderEpoch } from './fill-fence';
import { answerWhen } from './answer-when';
import { notOwnerBody } from './not-owner';
import { applyRelease } from './releases';
import type { NodeRequestHeaders } from './request-headers';
import { sendEmpty, sendError, sendJson } from './responses';
import type { WriteOutcome, WriteRequest } from './store';

const KEY_START = NODE_ROUTES.keyPrefix.length;
const PENDING_MISS: NodeMissBody = { error: 'miss', pending: true };
const LEASE_PATTERN = /^[0-9a-z]{1,16}$/;

const MESSAGES = {
  bad_key: `key must be 1..${NODE_MAX_KEY_BYTES} bytes, URL-encoded as one path segment`,
  bad_region: `region must be an integer 0..${NODE_REGION_COUNT - 1}`,
  bad_epoch: `${NODE_HEADERS.epoch} must be a non-negative integer`,
  bad_version: 'version must be a non-negative safe integer',
  bad_invalidation: 'an invalidation needs the version of the write it follows',
  bad_near: "near must be the uploader's subscriber id (16 to 64 lowercase hex digits)",
  bad_lease: 'lease must be a token from a miss answer',
  bad_mark: 'pending= and release= take a mark id of 1 to 32 lowercase letters or digits',
  bad_ms: 'a pending mark needs ms=<positive integer>',
  bad_content_type: `content-type must be 1..${NODE_MAX_CONTENT_TYPE_BYTES} visible ASCII characters`,
  bad_length: 'bad content-length',
} as const;

/** Header list of a hit, refilled in place for each hit (writeHead copies it synchronously). */
const hitHeaders = [
  'content-type',
  '',
  'content-length',
  '',
  NODE_HEADERS.version,
  '',
  NODE_HEADERS.epoch,
  '',
];

/** GET|PUT|DELETE /v1/keys/:key?region=R[&version=V][&lease=L]; auth already checked. */
export function handleKeyRoute(
  ctx: NodeContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: string,
  headers: NodeRequestHeaders,
): void {
  const epoch = ctx.ownership.epochHeader;
  const q = url.indexOf('?');
  const forStorage = req.method !== 'GET';
  const key = parseKey(url, q < 0 ? url.length : q, forStorage);
  if (key === undefined) {
    return sendError(res, 400, 'bad_key', MESSAGES.bad_key, epoch);
  }
  const region = intParam(url, q, 'region=');
  if (region < 0 || region >= NODE_REGION_COUNT) {
    return sendError(res, 400, 'bad_region', MESSAGES.bad_region, epoch);
  }
  if (headers.epoch !== undefined && parseNonNegativeInt(headers.epoch) < 0) {
    return sendError(res, 400, 'bad_epoch', MESSAGES.bad_epoch, epoch);
  }
  switch (req.method) {
    case 'GET':
      return getKey(ctx, res, key, region);
    case 'PUT':
      return putKey(ctx, req, res, url, q, key, region, headers);
    case 'DELETE':
      return deleteKey(ctx, res, url, q, key, region);
    default:
      res.setHeader('allow', 'GET, PUT, DELETE');
      return sendError(res, 405, 'method_not_allowed', `${req.method} is not allowed here`, epoch);
  }
}

function getKey(ctx: NodeContext, res: ServerResponse, key: string, region: number): void {
  const { stats, store, ownership } = ctx;
  stats.counters.requests++;
  if (!ownership.owns(region)) return notOwner(ctx, res, region);
  stats.counters.gets++;
  const entry = store.table.get(key);
  if (entry) {
    stats.counters.hits++;
    // The block stays ours until the response has handed it to the kernel (PoolResponse).
    store.table.beginRead(entry);
    (res as PoolResponse).hold(store.table, entry);
    hitHeaders[1] = entry.contentType;
    hitHeaders[3] = entry.lengthHeader;
    hitHeaders[5] = entry.versionHeader;
    hitHeaders[7] = ownership.epochHeader;
    res.writeHead(200, hitHeaders);
    res.end(entry.value);
    return;
  }
  stats.counters.misses++;
  const lease = store.leaseUnlessPending(key, region);
  const body: NodeMissBody = lease === undefined ? PENDING_MISS : { error: 'miss', lease };
  sendJson(res, 404, body, ownership.epochHeader);
}

function putKey(
  ctx: NodeContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: string,
  q: number,
  key: string,
  region: number,
  headers: NodeRequestHeaders,
): void {
  const { stats, store, ownership } = ctx;
  const epoch = ownership.epochHeader;
  const version = intParam(url, q, 'version=');
  if (version < 0) return sendError(res, 400, 'bad_version', MESSAGES.bad_version, epoch);
  const lease = stringParam(url, q, 'lease=');
  if (lease !== undefined && !LEASE_PATTERN.test(lease)) {
    return sendError(res, 400, 'bad_lease', MESSAGES.bad_lease, epoch);
  }
  const contentType = headers.contentType ?? NODE_DEFAULT_CONTENT_TYPE;
  if (!isValidContentType(contentType, NODE_MAX_CONTENT_TYPE_BYTES)) {
    return sendError(res, 400, 'bad_content_type', MESSAGES.bad_content_type, epoch);
  }
  const declared = declaredLength(headers);
  if (declared === MALFORMED) return sendError(res, 400, 'bad_request', MESSAGES.bad_length, epoch);
  stats.counters.requests++;
  if (!ownership.owns(region)) return notOwner(ctx, res, region);
  const maxBytes = store.table.maxValueBytes(Buffer.byteLength(key), contentType.length);
  if (declared > maxBytes) return tooLarge(ctx, res, maxBytes);
  const onBody = (body: BodyResult): void => {
    if (body === 'aborted') {
      stats.counters.aborted++;
      return;
    }
    if (body === 'too_large') return tooLarge(ctx, res, maxBytes);
    // Ownership may have moved while the body was streaming in.
    if (!ownership.owns(region)) {
      store.table.discardValue(body);
      return notOwner(ctx, res, region);
    }
    if (lease !== undefined && fillFromOlderEpoch(headers.epoch, ownership.epoch)) {
      store.table.discardValue(body);
      return answerWrite(ctx, res, 'lease', maxBytes);
    }
    const write: WriteRequest = { key, region, value: body, contentType, version };
    const outcome = lease === undefined ? store.put(write) : store.fill(write, lease);
    answerWrite(ctx, res, outcome, maxBytes);
  };
  readBody(req, declared, maxBytes, onBody, store.table.acquireValue, store.table.discardValue);
}

function answerWrite(
  ctx: NodeContext,
  res: ServerResponse,
  outcome: WriteOutcome,
  maxBytes: number,
): void {
  const { counters } = ctx.stats;
  const epoch = ctx.ownership.epochHeader;
  if (outcome === 'too_large') return tooLarge(ctx, res, maxBytes);
  counters.puts++;
  if (outcome === 'stored') {
    counters.stored++;
    return sendEmpty(res, 204, epoch);
  }
  counters.refused++;
  const body: NodeStaleBody = { error: 'stale', reason: outcome === 'kept' ? 'version' : outcome };
  sendJson(res, 409, body, epoch);
}

function deleteKey(
  ctx: NodeContext,
  res: ServerResponse,
  url: string,
  q: number,
  key: string,
  region: number,
): void {
  const { stats, store, ownership } = ctx;
  const uploader = stringParam(url, q, 'near=');
  if (uploader !== undefined && !NEAR_ID_PATTERN.test(uploader)) {
    return sendError(res, 400, 'bad_near', MESSAGES.bad_near, ownership.epochHeader);
  }
  const pending = stringParam(url, q, 'pending=');
  const release = stringParam(url, q, 'release=');
  if (pending !== undefined || release !== undefined)
    return markOrRelease(ctx, res, url, q, { key, region, pending, release, uploader });
  const version = intParam(url, q, 'version=');
  if (version < 0) {
    return sendError(res, 400, 'bad_version', MESSAGES.bad_invalidation, ownership.epochHeader);
  }
  stats.counters.requests++;
  // Applied even when not the owner: if this node was the previous owner, the stale copy it still
  // holds must not be shipped to the new owner by a transfer (see store.ts).
  const removed = store.invalidate(key, region, version);
  const owner = ownership.owns(region);
  // Near copies first: answered once every subscriber dropped it or its lease ran out.
  answerWhen(res, (answer) =>
    ctx.subscriptions.invalidated(
      key,
      region,
      version,
      () =>
        answer(() => {
          if (!owner) return notOwner(ctx, res, region);
          stats.counters.deletes++;
          sendJson(res, 200, { removed }, ownership.epochHeader);
        }),
      uploader,
    ),
  );
}

interface MarkRequest {
  key: string;
  region: number;
  pending: string | undefined;
  release: string | undefined;
  uploader: string | undefined;
}

/**
 * DELETE ...&pending=M&ms=T (an upload is about to commit) or ...&release=M[&version=V] (it did):
 * pending-keys.ts. Like an invalidation, applied even when not the owner, answered 421 then.
 */
function markOrRelease(
  ctx: NodeContext,
  res: ServerResponse,
  url: string,
  q: number,
  request: MarkRequest,
): void {
  const { stats, store, ownership, subscriptions } = ctx;
  const { key, region, pending, release, uploader } = request;
  const epoch = ownership.epochHeader;
  const id = pending ?? release!;
  if ((pending !== undefined && release !== undefined) || !NODE_MARK_PATTERN.test(id))
    return sendError(res, 400, 'bad_request', MESSAGES.bad_mark, epoch);
  const version = intParam(url, q, 'version=');
  if (version === MALFORMED) return sendError(res, 400, 'bad_version', MESSAGES.bad_version, epoch);
  const ms = intParam(url, q, 'ms=');
  if (pending !== undefined && ms <= 0)
    return sendError(res, 400, 'bad_request', MESSAGES.bad_ms, epoch);
  stats.counters.requests++;
  const owner = ownership.owns(region);
  const answer = (body: NodeInvalidateBody): void => {
    if (!owner) return notOwner(ctx, res, region);
    stats.counters.deletes++;
    sendJson(res, 200, body, ownership.epochHeader);
  };
  if (release !== undefined) {
    const committed = version === ABSENT ? undefined : version;
    return answer({
      removed: applyRelease(ctx, { key, region, id, version: committed }, uploader),
    });
  }
  const marked = store.markPending(key, region, id, ms);
  // Like an invalidation: answered once the subscribers went pending too, with 102 meanwhile.
  answerWhen(res, (send) =>
    subscriptions.markedPending(
      { id, ms: marked.ms, key },
      [region],
      () => send(() => answer(marked)),
      uploader,
    ),
  );
}

/** Content-Length, -1 for a chunked body, 0 for none; MALFORMED if unreadable. */
function declaredLength(headers: NodeRequestHeaders): number {
  if (headers.contentLength !== undefined) return parseNonNegativeInt(headers.contentLength);
  return headers.chunked ? -1 : 0;
}

function notOwner(ctx: NodeContext, res: ServerResponse, region: number): void {
  sendJson(res, 421, notOwnerBody(ctx, region), ctx.ownership.epochHeader);
}

function tooLarge(ctx: NodeContext, res: ServerResponse, maxBytes: number): void {
  ctx.stats.counters.puts++;
  ctx.stats.counters.tooLarge++;
  const body: NodeTooLargeBody = { error: 'too_large', maxBytes: Math.max(0, maxBytes) };
  sendJson(res, 413, body, ctx.ownership.epochHeader);
}

/**
 * The key from the single path segment after /v1/keys/, or undefined when invalid. A key kept in
 * the store must not be a slice of req.url (V8 would keep the whole URL string alive with it), and
 * decodeURIComponent always returns a fresh string.
 */
function parseKey(url: string, end: number, forStorage: boolean): string | undefined {
  if (end <= KEY_START) return undefined;
  let escaped = false;
  for (let i = KEY_START; i < end; i++) {
    const c = url.charCodeAt(i);
    if (c === 47 /* / */) return undefined;
    if (c === 37 /* % */) escaped = true;
  }
  const raw = url.slice(KEY_START, end);
  if (!escaped && !forStorage) return raw.length <= NODE_MAX_KEY_BYTES ? raw : undefined;
  let key: string;
  try {
    key = decodeURIComponent(raw);
  } catch {
    return undefined;
  }
  return key.length > 0 && Buffer.byteLength(key) <= NODE_MAX_KEY_BYTES ? key : undefined;
}
