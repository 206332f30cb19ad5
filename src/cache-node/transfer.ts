import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NodeImportResult, NodeTransferResult } from '../protocol/cache-node.protocol';
import { readChecked } from './admin-routes';
import type { NodeContext } from './context';
import { sendError, sendJson } from './responses';
import { checkTargetEpoch, streamRegions, type Sent } from './transfer-stream';
import { checkTransfer } from './validation';

/**
 * POST /v1/transfer {regions, target, epoch} — runs on the regions' previous owner during a
 * resize, to a member of the pool as the app named it with the ownership (putOwnership): streams their entries, then their tombstones, to the target's /v1/import in one
 * chunked request, and drops them here once the target confirmed. The node must already have
 * given the regions up: while it still owns them it could acknowledge an invalidation after the
 * entry was sent, and the new owner would keep the stale copy.
 */
export async function transfer(
  ctx: NodeContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const order = await readChecked(ctx, req, res, checkTransfer);
  if (!order) return;
  const epoch = ctx.ownership.epochHeader;
  if (!ctx.ownership.members.has(order.target.origin)) {
    const message = `${order.target.origin} is not a member of the pool the app named`;
    return sendError(res, 403, 'not_member', message, epoch);
  }
  const owned = order.regions.filter((region) => ctx.ownership.owns(region));
  if (owned.length > 0) {
    const message = `node still owns regions ${owned.join(',')}: set its ownership first`;
    return sendError(res, 409, 'still_owner', message, epoch);
  }
  const started = performance.now();
  const regions = new Set(order.regions);
  const sent: Sent = { entries: 0, tombstones: 0, bytes: 0 };
  let target: NodeImportResult;
  try {
    await checkTargetEpoch(order.target, order.epoch);
    target = await streamRegions(ctx, regions, order.target, order.epoch, sent);
  } catch (err) {
    const message = `transfer to ${order.target.origin} failed: ${(err as Error).message}`;
    return sendJson(res, 502, { error: 'transfer_failed', message, ...sent }, epoch);
  }
  // Not a region given back to this node meanwhile: what it holds of that is a new tenure's.
  ctx.store.dropRegions(new Set(order.regions.filter((region) => !ctx.ownership.owns(region))));
  const body: NodeTransferResult = { ...sent, ms: Math.round(performance.now() - started), target };
  sendJson(res, 200, body, epoch);
}
