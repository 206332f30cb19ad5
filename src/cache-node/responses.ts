import type { ServerResponse } from 'node:http';
import { NODE_HEADERS, type NodeErrorCode } from '../protocol/cache-node.protocol';

const JSON_TYPE = 'application/json; charset=utf-8';

/** Every answer names the node's epoch, so a caller with an older assignment learns it is stale. */
export function sendJson(res: ServerResponse, status: number, body: object, epoch: string): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, [
    'content-type',
    JSON_TYPE,
    'content-length',
    String(Buffer.byteLength(payload)),
    NODE_HEADERS.epoch,
    epoch,
  ]);
  res.end(payload);
}

export function sendError(
  res: ServerResponse,
  status: number,
  error: NodeErrorCode,
  message: string,
  epoch: string,
): void {
  sendJson(res, status, { error, message }, epoch);
}

export function sendEmpty(res: ServerResponse, status: number, epoch: string): void {
  res.writeHead(status, [NODE_HEADERS.epoch, epoch]);
  res.end();
}
