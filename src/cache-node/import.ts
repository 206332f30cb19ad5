import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  NODE_MARK_PATTERN,
  NODE_MAX_CONTENT_TYPE_BYTES,
  type NodeImportResult,
} from '../protocol/cache-node.protocol';
import { isValidContentType } from './content-types';
import type { NodeContext } from './context';
import { FrameDecoder, FrameKind, FramingError, type Frame } from './framing';
import { intParam } from './query';
import { sendError, sendJson } from './responses';

/**
 * POST /v1/import?epoch=E — the receiving end of a region transfer (see transfer.ts). Frames are
 * applied as they arrive with put-if-newer (CacheStore.import); each is safe on its own, so a
 * stream cut short leaves only entries that were fine to keep. The epoch must be this node's:
 * entries sent for another assignment may belong to another tenure of the region.
 */
export function importStream(
  ctx: NodeContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: string,
): void {
  const { ownership, store, stats } = ctx;
  const nodeEpoch = ownership.epochHeader;
  const epoch = intParam(url, url.indexOf('?'), 'epoch=');
  if (epoch < 0) return sendError(res, 400, 'bad_epoch', 'import needs ?epoch=<epoch>', nodeEpoch);
  if (epoch !== ownership.epoch) {
    const message = `transfer is for epoch ${epoch}, node is at epoch ${ownership.epoch}`;
    const body = { error: 'stale_epoch', message, epoch: ownership.epoch };
    return sendJson(res, 409, body, nodeEpoch);
  }
  const result: NodeImportResult = { imported: 0, refused: 0, tombstones: 0, bytes: 0 };
  const apply = (frame: Frame): void => {
    if (ownership.epoch !== epoch || !ownership.owns(frame.region)) {
      if (frame.kind === FrameKind.Entry) result.refused++;
      if (frame.value) store.table.discardValue(frame.value);
      return;
    }
    if (frame.kind === FrameKind.Pending) {
      if (!NODE_MARK_PATTERN.test(frame.contentType)) throw new FramingError('bad mark id');
      store.markPending(frame.key, frame.region, frame.contentType, frame.version);
      return;
    }
    if (frame.kind === FrameKind.Tombstone) {
      store.importTombstone(frame.key, frame.region, frame.version);
      result.tombstones++;
      return;
    }
    if (!isValidContentType(frame.contentType, NODE_MAX_CONTENT_TYPE_BYTES)) {
      throw new FramingError('bad content type');
    }
    const value = frame.value;
    const outcome = value
      ? store.import({
          key: frame.key,
          region: frame.region,
          value,
          contentType: frame.contentType,
          version: frame.version,
        })
      : 'too_large';
    if (outcome === 'stored' && value) {
      result.imported++;
      result.bytes += value.length;
      stats.counters.imported++;
    } else result.refused++;
  };
  const decoder = new FrameDecoder(apply, store.table.capacityBytes, store.table.acquireValue);
  let failed = false;
  const fail = (err: unknown): void => {
    failed = true;
    if (!(err instanceof FramingError)) {
      console.error('pixpool cache node: import failed:', err);
      return sendJson(
        res,
        500,
        { error: 'internal', message: 'import failed', ...result },
        ownership.epochHeader,
      );
    }
    sendJson(res, 400, { error: err.code, message: err.message, ...result }, ownership.epochHeader);
  };
  req.on('data', (chunk: Buffer) => {
    if (failed) return;
    try {
      decoder.push(chunk);
    } catch (err) {
      fail(err);
    }
  });
  req.on('end', () => {
    if (failed) return;
    try {
      decoder.finish();
    } catch (err) {
      return fail(err);
    }
    sendJson(res, 200, result, ownership.epochHeader);
  });
  req.on('error', () => undefined);
}
