import type { IncomingMessage, ServerResponse } from 'node:http';
import { NODE_ROUTES, NODE_STATS_RESET_PARAM } from '../protocol/cache-node.protocol';
import * as admin from './admin-routes';
import type { NodeContext } from './context';
import { importStream } from './import';
import { handleKeyRoute } from './key-routes';
import { releaseMany } from './releases';
import { scanHeaders, secretMatches } from './request-headers';
import { sendError } from './responses';
import { transfer } from './transfer';

type Handler = (
  ctx: NodeContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: string,
) => void | Promise<void>;

/** Admin routes by path, then method. Key routes are matched by prefix before this table. */
const table: Record<string, Partial<Record<string, Handler>>> = {
  [NODE_ROUTES.keys]: { DELETE: (ctx, _req, res, url) => admin.clear(ctx, res, url) },
  [NODE_ROUTES.config]: {
    GET: (ctx, _req, res) => admin.getConfig(ctx, res),
    PUT: (ctx, req, res) => admin.putConfig(ctx, req, res),
  },
  [NODE_ROUTES.stats]: {
    GET: (ctx, _req, res, url) =>
      admin.getStats(ctx, res, url.includes(`${NODE_STATS_RESET_PARAM}=interval`)),
  },
  [NODE_ROUTES.ownership]: {
    GET: (ctx, _req, res) => admin.getOwnership(ctx, res),
    PUT: (ctx, req, res) => admin.putOwnership(ctx, req, res),
  },
  [NODE_ROUTES.transfer]: { POST: (ctx, req, res) => transfer(ctx, req, res) },
  [NODE_ROUTES.import]: { POST: (ctx, req, res, url) => importStream(ctx, req, res, url) },
  [NODE_ROUTES.drop]: { POST: (ctx, req, res) => admin.drop(ctx, req, res) },
  [NODE_ROUTES.releases]: { POST: (ctx, req, res) => releaseMany(ctx, req, res) },
};
/** A Map, so that paths like /constructor find nothing instead of Object.prototype members. */
const ROUTES = new Map(Object.entries(table));

export function route(
  ctx: NodeContext,
  req: IncomingMessage,
  res: ServerResponse,
): void | Promise<void> {
  const url = req.url ?? '/';
  const epoch = ctx.ownership.epochHeader;
  const headers = scanHeaders(req.rawHeaders);
  const isHealth = url === NODE_ROUTES.health || url.startsWith(`${NODE_ROUTES.health}?`);
  if (isHealth && (req.method === 'GET' || req.method === 'HEAD')) {
    return admin.health(ctx, res);
  }
  const secret = ctx.options.secret;
  if (secret !== undefined && !secretMatches(headers.secret, secret)) {
    return sendError(res, 401, 'unauthorized', 'missing or wrong x-pixpool-secret', epoch);
  }
  if (url.startsWith(NODE_ROUTES.keyPrefix)) return handleKeyRoute(ctx, req, res, url, headers);
  const q = url.indexOf('?');
  const methods = ROUTES.get(q < 0 ? url : url.slice(0, q));
  if (!methods)
    return sendError(res, 404, 'not_found', `no route ${req.method} ${url.slice(0, 200)}`, epoch);
  const handler = Object.hasOwn(methods, req.method ?? '') ? methods[req.method ?? ''] : undefined;
  if (!handler) {
    res.setHeader('allow', Object.keys(methods).join(', '));
    return sendError(
      res,
      405,
      'method_not_allowed',
      `${req.method} is not allowed on this route`,
      epoch,
    );
  }
  return handler(ctx, req, res, url);
}
