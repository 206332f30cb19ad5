import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  NODE_CLEAR_BELOW_PARAM,
  NODE_MARK_PATTERN,
  NODE_MAX_JSON_BYTES,
  NODE_REGION_COUNT,
  type NodeClearResult,
  type NodeConfig,
  type NodeHealth,
  type NodeOwnership,
  type NodeStats,
} from '../protocol/cache-node.protocol';
import { readJson } from './body';
import { answerWhen } from './answer-when';
import type { NodeContext } from './context';
import { ENTRY_OVERHEAD_BYTES } from './entry';
import { ABSENT, intParam, MALFORMED, stringParam } from './query';
import { sendError, sendJson } from './responses';
import { checkConfig, checkDrop, checkOwnership, type Checked } from './validation';

export function health(ctx: NodeContext, res: ServerResponse): void {
  const body: NodeHealth = {
    status: 'ok',
    epoch: ctx.ownership.epoch,
    regions: ctx.ownership.regions(),
    nearLeaseMs: ctx.subscriptions.leaseMs,
    boot: ctx.stats.boot,
  };
  sendJson(res, 200, body, ctx.ownership.epochHeader);
}

export function getConfig(ctx: NodeContext, res: ServerResponse): void {
  sendJson(res, 200, currentConfig(ctx), ctx.ownership.epochHeader);
}

export async function putConfig(
  ctx: NodeContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const change = await readChecked(ctx, req, res, checkConfig);
  if (!change) return;
  // Policy first: a shrink then evicts in the new policy's order, as a caller setting both expects.
  if (change.policy) ctx.store.table.setPolicy(change.policy);
  if (change.capacityBytes !== undefined) ctx.store.table.setCapacity(change.capacityBytes);
  sendJson(res, 200, currentConfig(ctx), ctx.ownership.epochHeader);
}

export function getStats(ctx: NodeContext, res: ServerResponse, reset: boolean): void {
  const { store, stats, ownership } = ctx;
  stats.counters.evictions = store.table.evictions;
  store.sweepExpired();
  const now = Date.now();
  const body: NodeStats = {
    items: store.table.size,
    bytesUsed: store.table.bytesUsed,
    capacityBytes: store.table.capacityBytes,
    policy: store.table.policyName,
    entryOverheadBytes: ENTRY_OVERHEAD_BYTES,
    pooledBytes: store.table.pooledBytes,
    leases: store.leaseCount,
    tombstones: store.tombstoneCount,
    epoch: ownership.epoch,
    near: ctx.subscriptions.stats(),
    startedAt: new Date(stats.startedAt).toISOString(),
    uptimeMs: now - stats.startedAt,
    sinceStart: { ...stats.counters },
    interval: stats.interval(reset),
  };
  sendJson(res, 200, body, ownership.epochHeader);
}

export function getOwnership(ctx: NodeContext, res: ServerResponse): void {
  const body: NodeOwnership = { epoch: ctx.ownership.epoch, regions: ctx.ownership.regions() };
  sendJson(res, 200, body, ctx.ownership.epochHeader);
}

export async function putOwnership(
  ctx: NodeContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const next = await readChecked(ctx, req, res, checkOwnership);
  if (!next) return;
  const { ownership, store } = ctx;
  if (next.epoch < ownership.epoch) {
    const message = `epoch ${next.epoch} is older than the node's epoch ${ownership.epoch}`;
    return sendJson(
      res,
      409,
      { error: 'stale_epoch', message, epoch: ownership.epoch },
      ownership.epochHeader,
    );
  }
  const change = ownership.set(next.epoch, next.regions);
  if (next.members) ownership.members = new Set(next.members);
  store.regionsLost(change.lost);
  store.regionsGained(change.gained);
  // Near copies: subscribers drop what this node gave up before the manager hands it on, and
  // what it gained may still be held under its previous owner's leases (subscriptions.ts).
  ctx.subscriptions.holdGained(change.gained, next.holdMs);
  answerWhen(res, (answer) =>
    ctx.subscriptions.dropped([...change.lost], true, () => answer(() => getOwnership(ctx, res))),
  );
}

const ALL_REGIONS = Array.from({ length: NODE_REGION_COUNT }, (_, region) => region);

/**
 * DELETE /v1/keys: everything goes. With ?below=V (a data clear: every version below V was
 * deleted) later writes below V are refused too (store.ts, rule 4). With ?pending=M&ms=T
 * (delete_all, before its commit) every key also stays pending under mark M, at the subscribers
 * too; ?release=M ends that mark.
 */
export function clear(ctx: NodeContext, res: ServerResponse, url: string): void {
  const epoch = ctx.ownership.epochHeader;
  const q = url.indexOf('?');
  const pending = stringParam(url, q, 'pending=');
  const release = stringParam(url, q, 'release=');
  const id = pending ?? release;
  if (id !== undefined && (!NODE_MARK_PATTERN.test(id) || (pending && release)))
    return sendError(res, 400, 'bad_request', 'pending= or release= takes a mark id', epoch);
  if (release !== undefined) {
    ctx.store.pending.releaseRegions(release);
    ctx.subscriptions.released({ t: 'rel', id: release }, ALL_REGIONS);
    return sendJson(res, 200, { entries: 0 } satisfies NodeClearResult, epoch);
  }
  if (pending !== undefined) {
    const ms = intParam(url, q, 'ms=');
    if (ms <= 0) return sendError(res, 400, 'bad_request', 'a pending mark needs ms=', epoch);
    const entries = ctx.store.table.size;
    const granted = ctx.store.markAllPending(ALL_REGIONS, pending, ms);
    const body: NodeClearResult = { entries, ms: granted };
    return answerWhen(res, (answer) =>
      ctx.subscriptions.markedPending({ id: pending, ms: granted }, ALL_REGIONS, () =>
        answer(() => sendJson(res, 200, body, ctx.ownership.epochHeader)),
      ),
    );
  }
  const below = intParam(url, q, `${NODE_CLEAR_BELOW_PARAM}=`);
  if (below === MALFORMED) {
    const message = `${NODE_CLEAR_BELOW_PARAM} must be a non-negative integer version`;
    return sendError(res, 400, 'bad_version', message, epoch);
  }
  const body: NodeClearResult = { entries: ctx.store.clear(below === ABSENT ? -1 : below) };
  answerWhen(res, (answer) =>
    ctx.subscriptions.dropped(ALL_REGIONS, false, () =>
      answer(() => sendJson(res, 200, body, ctx.ownership.epochHeader)),
    ),
  );
}

export async function drop(
  ctx: NodeContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const regions = await readChecked(ctx, req, res, checkDrop);
  if (!regions) return;
  sendJson(res, 200, ctx.store.dropRegions(new Set(regions)), ctx.ownership.epochHeader);
}

function currentConfig(ctx: NodeContext): NodeConfig {
  return { capacityBytes: ctx.store.table.capacityBytes, policy: ctx.store.table.policyName };
}

/** Reads and checks a JSON body; on failure answers the request and returns undefined. */
export async function readChecked<T>(
  ctx: NodeContext,
  req: IncomingMessage,
  res: ServerResponse,
  check: (body: unknown) => Checked<T>,
): Promise<T | undefined> {
  const epoch = ctx.ownership.epochHeader;
  const body = await readJson(req, NODE_MAX_JSON_BYTES);
  if (!body.ok) {
    if (body.reason === 'too_large')
      sendError(
        res,
        413,
        'too_large',
        `JSON bodies are limited to ${NODE_MAX_JSON_BYTES} bytes`,
        epoch,
      );
    else if (body.reason === 'bad_json')
      sendError(res, 400, 'bad_request', 'body is not valid JSON', epoch);
    return undefined;
  }
  const checked = check(body.value);
  if (!checked.ok) {
    sendError(res, 400, 'bad_request', checked.message, epoch);
    return undefined;
  }
  return checked.value;
}
