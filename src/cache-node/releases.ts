import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NodeReleaseItem, NodeReleasesAnswer } from '../protocol/cache-node.protocol';
import { readChecked } from './admin-routes';
import type { NodeContext } from './context';
import { notOwnerBody } from './not-owner';
import { sendJson } from './responses';
import { checkReleases } from './validation';

/**
 * An upload committed `version` of the key under mark `id` (or, without it, never will): the mark
 * goes, a tombstone of the version stays, and the region's subscribers but the uploader are told
 * (pending-keys.ts argues why). Applied whether or not this node owns the region, like an
 * invalidation. True when a copy was removed.
 */
export function applyRelease(
  ctx: NodeContext,
  item: NodeReleaseItem,
  uploader: string | undefined,
): boolean {
  const { key, region, id, version } = item;
  const removed = ctx.store.release(key, region, id, version);
  ctx.subscriptions.released({ t: 'rel', id, key, region, version }, [region], uploader);
  return removed;
}

/**
 * POST /v1/releases: the releases a front-end queued while its previous one was in flight, each
 * applied and counted as DELETE ...&release= would be, in order. Checked whole before any is
 * applied, so a bad body changes nothing.
 */
export async function releaseMany(
  ctx: NodeContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const body = await readChecked(ctx, req, res, checkReleases);
  if (!body) return;
  const { stats, ownership } = ctx;
  const results: NodeReleasesAnswer['results'] = body.releases.map((item) => {
    stats.counters.requests++;
    const owner = ownership.owns(item.region);
    const removed = applyRelease(ctx, item, body.near);
    if (!owner) return notOwnerBody(ctx, item.region);
    stats.counters.deletes++;
    return { removed };
  });
  sendJson(res, 200, { results }, ownership.epochHeader);
}
