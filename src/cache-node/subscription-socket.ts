import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  isRegionList,
  LineSplitter,
  NEAR_ID_PATTERN,
  NEAR_MAX_HIT_KEYS,
  NEAR_ROUTE,
  NEAR_UPGRADE,
  type NearReport,
  type NearToFrontEnd,
} from '../protocol/near-cache.protocol';
import { NODE_MAX_KEY_BYTES, NODE_REGION_COUNT } from '../protocol/cache-node.protocol';
import type { NodeContext } from './context';
import { scanHeaders, secretMatches } from './request-headers';
import type { Subscriber } from './subscriptions';

/** A subscriber that stops reading: past this much unsent output its connection is cut. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

/**
 * `upgrade` handler of the node's server: turns GET /v1/subscribe into a near-cache subscription
 * (see subscriptions.ts). Anything else asking for an upgrade is refused and closed.
 */
export function acceptSubscription(
  ctx: NodeContext,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): void {
  socket.on('error', () => undefined);
  const secret = ctx.options.secret;
  const headers = scanHeaders(req.rawHeaders);
  const upgrade = String(req.headers.upgrade ?? '').toLowerCase();
  if (req.method !== 'GET' || req.url !== NEAR_ROUTE || upgrade !== NEAR_UPGRADE)
    return refuse(socket, 400, 'Bad Request', 'only GET /v1/subscribe upgrades');
  if (secret !== undefined && !secretMatches(headers.secret, secret))
    return refuse(socket, 401, 'Unauthorized', 'missing or wrong x-pixpool-secret');
  socket.write(
    `HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: ${NEAR_UPGRADE}\r\n\r\n`,
  );
  const table = ctx.subscriptions;
  const subscriber = table.attach({
    send: (message: NearToFrontEnd) => {
      if (socket.writableLength > MAX_BUFFERED_BYTES) return void socket.destroy();
      socket.write(`${JSON.stringify(message)}\n`);
    },
    close: () => socket.destroy(),
  });
  // The first lease is the subscription's header: a socket that never sends one would otherwise
  // hold its slot forever (Node's header and request timeouts end at the upgrade).
  const noLease = setTimeout(() => socket.destroy(), ctx.options.headersTimeoutMs);
  const splitter = new LineSplitter(
    (message) => {
      if (isLease(message)) clearTimeout(noLease);
      onMessage(ctx, subscriber, message);
    },
    () => socket.destroy(),
  );
  socket.on('data', (chunk: Buffer) => splitter.push(chunk));
  socket.on('close', () => {
    clearTimeout(noLease);
    table.detach(subscriber);
  });
  (socket as Duplex & { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
  if (head.length > 0) splitter.push(head);
}

function onMessage(ctx: NodeContext, subscriber: Subscriber, message: unknown): void {
  if (typeof message !== 'object' || message === null) return subscriber.link.close();
  const m = message as Record<string, unknown>;
  const seq = m.seq;
  switch (m.t) {
    case 'lease': {
      if (!Number.isSafeInteger(seq)) return subscriber.link.close();
      if (!isRegionList(m.regions, NODE_REGION_COUNT)) return subscriber.link.close();
      if (m.id !== undefined) {
        if (typeof m.id !== 'string' || !NEAR_ID_PATTERN.test(m.id)) return subscriber.link.close();
        subscriber.id = m.id;
      }
      if (isReport(m.report)) ctx.subscriptions.report(subscriber, m.report);
      const granted = ctx.subscriptions.lease(subscriber, m.regions, (r) => ctx.ownership.owns(r));
      if (!granted) return subscriber.link.close();
      subscriber.link.send({
        t: 'leased',
        seq: seq as number,
        regions: granted,
        epoch: ctx.ownership.epoch,
        ms: ctx.subscriptions.leaseMs,
      });
      return;
    }
    case 'ack':
      if (Number.isSafeInteger(seq)) ctx.subscriptions.ack(subscriber, seq as number);
      return;
    case 'hits':
      return countHits(ctx, m.hits);
    case 'bye':
      return ctx.subscriptions.bye(subscriber);
    default:
      return subscriber.link.close();
  }
}

/**
 * Near hits are hits: they count in the node's statistics (so the miss rate, the charts and the
 * auto-scaler see every read) and refresh the entry's recency, so the node does not evict what a
 * front-end keeps hot.
 */
function countHits(ctx: NodeContext, hits: unknown): void {
  if (!Array.isArray(hits) || hits.length > NEAR_MAX_HIT_KEYS) return;
  const { counters } = ctx.stats;
  for (const item of hits) {
    if (!Array.isArray(item) || item.length !== 2) continue;
    const [key, count] = item as [unknown, unknown];
    if (typeof key !== 'string' || key.length > NODE_MAX_KEY_BYTES) continue;
    if (!Number.isSafeInteger(count) || (count as number) <= 0 || (count as number) > 1e9) continue;
    counters.requests += count as number;
    counters.gets += count as number;
    counters.hits += count as number;
    ctx.store.table.get(key);
  }
}

function isLease(message: unknown): boolean {
  return (
    typeof message === 'object' && message !== null && (message as { t?: unknown }).t === 'lease'
  );
}

function isReport(value: unknown): value is NearReport {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  return (
    typeof r.name === 'string' &&
    r.name.length <= 200 &&
    ['items', 'bytes', 'capacityBytes', 'hits', 'reads'].every((f) => Number.isSafeInteger(r[f]))
  );
}

function refuse(socket: Duplex, status: number, text: string, message: string): void {
  const body = JSON.stringify({ error: status === 401 ? 'unauthorized' : 'bad_request', message });
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\ncontent-type: application/json; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
