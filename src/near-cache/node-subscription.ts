import * as http from 'node:http';
import type { Duplex } from 'node:stream';
import {
  isLeaseMs,
  isRegionList,
  LineSplitter,
  NEAR_ROUTE,
  NEAR_UPGRADE,
  type NearReport,
  type NearToNode,
} from '../protocol/near-cache.protocol';
import { NODE_HEADERS, NODE_REGION_COUNT } from '../protocol/cache-node.protocol';
import { leaseEnd } from './lease-clock';

/** What a subscription tells the near cache; each runs before the node is acknowledged. */
export interface SubscriptionListener {
  granted(subscription: NodeSubscription, regions: number[], revoked: number[]): void;
  invalidate(subscription: NodeSubscription, key: string, region: number, version: number): void;
  drop(subscription: NodeSubscription, regions: number[]): void;
  /** An upload is about to commit `key` (undefined: every key, delete_all) under mark `id`. */
  pending(subscription: NodeSubscription, mark: NearMark): void;
  /** Mark `id` was released; `version`: what the upload committed. */
  released(subscription: NodeSubscription, mark: NearRelease): void;
  /** The connection is gone: nothing held under it may be served any more. */
  lost(subscription: NodeSubscription): void;
}

export interface NearMark {
  id: string;
  ms: number;
  key?: string;
  region?: number;
  regions?: number[];
}

export interface NearRelease {
  id: string;
  key?: string;
  region?: number;
  version?: number;
}

export interface SubscriptionOptions {
  nodeId: string;
  url: string;
  secret: string | undefined;
  /** The front-end's subscriber id (the same at every node). */
  id: string | undefined;
  /** How long to wait for the connection before the node has granted anything. */
  connectTimeoutMs: number;
  now: () => number;
}

/**
 * One front-end's subscription at one node: a persistent connection (protocol:
 * src/protocol/near-cache.protocol.ts) over which it renews its lease and receives invalidations.
 * The connection is the subscription: once closed it is never reused (the near cache makes a new
 * one), so a renewal can never paper over pushes missed while it was down.
 */
export class NodeSubscription {
  readonly nodeId: string;
  readonly url: string;
  /** Regions the node granted on the last answered lease. */
  readonly granted = new Set<number>();
  /** The front-end's lease end (monotonic ms); nothing held under it is served after. */
  validUntil = 0;
  /** The lease the node grants (its setting, said with every grant); 0 before the first. */
  grantMs = 0;
  private socket: Duplex | null = null;
  private closed = false;
  private seq = 0;
  private readonly sentAt = new Map<number, number>();
  private wanted: number[] = [];
  private openedAt = 0;

  constructor(
    private readonly options: SubscriptionOptions,
    private readonly listener: SubscriptionListener,
  ) {
    this.nodeId = options.nodeId;
    this.url = options.url;
  }

  get isOpen(): boolean {
    return this.socket !== null && !this.closed;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Valid now: open, and inside the lease. */
  valid(now: number): boolean {
    return !this.closed && now < this.validUntil;
  }

  connect(): void {
    this.openedAt = this.options.now();
    const target = new URL(this.url);
    const headers: http.OutgoingHttpHeaders = { connection: 'Upgrade', upgrade: NEAR_UPGRADE };
    if (this.options.secret !== undefined) headers[NODE_HEADERS.secret] = this.options.secret;
    const req = http.request({
      host: target.hostname,
      port: target.port,
      path: NEAR_ROUTE,
      method: 'GET',
      headers,
      agent: false,
      timeout: this.options.connectTimeoutMs,
    });
    req.on('upgrade', (_res, socket: Duplex, head: Buffer) => {
      req.setTimeout(0);
      if (this.closed) return void socket.destroy();
      this.socket = socket;
      (socket as Duplex & { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
      const splitter = new LineSplitter(
        (message) => this.onMessage(message),
        () => this.close(),
      );
      socket.on('data', (chunk: Buffer) => splitter.push(chunk));
      socket.on('close', () => this.close());
      socket.on('error', () => this.close());
      if (head.length > 0) splitter.push(head);
      this.renew();
    });
    req.on('response', (res) => {
      res.resume();
      this.close();
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => this.close());
    req.end();
  }

  /** The regions the router says this node owns: asked for on the next renewal, sent now. */
  want(regions: number[], report?: NearReport): void {
    this.wanted = regions;
    this.renew(report);
  }

  renew(report?: NearReport): void {
    const seq = ++this.seq;
    this.sentAt.set(seq, this.options.now());
    const { id } = this.options;
    this.send({ t: 'lease', seq, regions: this.wanted, ...(id ? { id } : {}), report });
  }

  sendHits(hits: Array<[string, number]>): void {
    this.send({ t: 'hits', hits });
  }

  /**
   * Ends the subscription. With `bye` (shutdown, after this front-end stopped serving) the node is
   * told it need not wait out the lease.
   */
  close(bye = false): void {
    if (this.closed) return;
    this.closed = true;
    this.validUntil = 0;
    this.listener.lost(this);
    if (bye && this.socket) this.socket.end(`${JSON.stringify({ t: 'bye' })}\n`);
    else this.socket?.destroy();
  }

  /** Connected for a lease or more and not renewed since the lease ran out: the link is dead. */
  stale(now: number): boolean {
    const lease = this.grantMs || this.options.connectTimeoutMs;
    return !this.closed && now > Math.max(this.validUntil, this.openedAt + lease);
  }

  private send(message: NearToNode): void {
    if (this.socket && !this.closed) this.socket.write(`${JSON.stringify(message)}\n`);
  }

  private onMessage(message: unknown): void {
    if (this.closed || typeof message !== 'object' || message === null) return;
    const m = message as Record<string, unknown>;
    // A release is told, not acknowledged: it has no sequence number.
    if (m.t === 'rel') return this.onRelease(m);
    const seq = m.seq;
    if (!Number.isSafeInteger(seq)) return this.close();
    switch (m.t) {
      case 'leased': {
        const sentAt = this.sentAt.get(seq as number);
        if (sentAt === undefined || !isRegionList(m.regions, NODE_REGION_COUNT) || !isLeaseMs(m.ms))
          return this.close();
        // Answers come in order: older requests left unanswered never will be.
        for (const old of this.sentAt.keys()) if (old <= (seq as number)) this.sentAt.delete(old);
        const revoked = [...this.granted].filter((r) => !(m.regions as number[]).includes(r));
        this.granted.clear();
        for (const region of m.regions) this.granted.add(region);
        // The node's lease, whatever this front-end would have liked: it is what the node waits out.
        this.grantMs = m.ms;
        this.validUntil = Math.max(this.validUntil, leaseEnd(sentAt, m.ms));
        this.listener.granted(this, m.regions, revoked);
        return;
      }
      case 'inv': {
        const { key, region, version } = m;
        if (typeof key !== 'string' || !Number.isSafeInteger(version)) return this.close();
        if (!Number.isInteger(region) || (region as number) < 0 || (region as number) >= 16)
          return this.close();
        this.listener.invalidate(this, key, region as number, version as number);
        this.send({ t: 'ack', seq: seq as number });
        return;
      }
      case 'drop': {
        if (!isRegionList(m.regions, NODE_REGION_COUNT)) return this.close();
        for (const region of m.regions) this.granted.delete(region);
        this.listener.drop(this, m.regions);
        this.send({ t: 'ack', seq: seq as number });
        return;
      }
      case 'pend': {
        const mark = parseMark(m);
        if (!mark) return this.close();
        this.listener.pending(this, mark);
        this.send({ t: 'ack', seq: seq as number });
        return;
      }
      default:
        return this.close();
    }
  }

  private onRelease(m: Record<string, unknown>): void {
    const { id, key, region, version } = m;
    if (typeof id !== 'string' || (key !== undefined && typeof key !== 'string'))
      return this.close();
    if (region !== undefined && !isRegion(region)) return this.close();
    if (version !== undefined && !Number.isSafeInteger(version)) return this.close();
    this.listener.released(this, m as unknown as NearRelease);
  }
}

function isRegion(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) < NODE_REGION_COUNT;
}

function parseMark(m: Record<string, unknown>): NearMark | undefined {
  const { id, ms, key, region, regions } = m;
  if (typeof id !== 'string' || !Number.isSafeInteger(ms) || (ms as number) <= 0) return undefined;
  if (typeof key === 'string' && isRegion(region)) return { id, ms: ms as number, key, region };
  if (key === undefined && isRegionList(regions, NODE_REGION_COUNT))
    return { id, ms: ms as number, regions };
  return undefined;
}
