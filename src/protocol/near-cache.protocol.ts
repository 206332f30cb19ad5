/**
 * Near-cache subscriptions: what a front-end and a cache node say to each other so that the
 * front-end may keep near copies (L1) of the node's regions. The argument for why this keeps every
 * read fresh is at the top of src/near-cache/near-cache.service.ts; the node's side is in
 * src/cache-node/subscriptions.ts.
 *
 * Transport: one persistent connection per front-end and node, opened on the node's HTTP port as
 *   GET /v1/subscribe   Connection: Upgrade, Upgrade: pixpool-near/1, x-pixpool-secret (if any)
 * answered `101 Switching Protocols`; then both sides write JSON objects, one per line (\n).
 * The connection is the subscription: when it closes, the front-end drops every near copy it
 * held under it, and the node forgets it once its lease has run out (not before: a closed socket
 * does not prove the front-end stopped serving).
 *
 * Front-end → node:
 *   {t:'lease', seq, regions, id?,          ask for (or renew) a lease on `regions`; the node
 *    report?}                               grants those it owns now, for as long as *it* says
 *                                           (its setting) → 'leased'. `id` (the
 *                                           front-end's subscriber id, NEAR_ID_PATTERN) leaves it
 *                                           out of the push of its own invalidations (DELETE
 *                                           ...&near=id, src/protocol/cache-node.protocol.ts)
 *   {t:'ack', seq}                          an 'inv' or 'drop' has been applied
 *   {t:'hits', hits: [[key, count], ...]}   near hits since the last batch (node statistics,
 *                                           recency)
 *   {t:'bye'}                               the front-end stopped serving near copies (shutdown):
 *                                           the node may forget it without waiting out its lease
 * Node → front-end:
 *   {t:'leased', seq, regions, epoch, ms}   answer to 'lease' `seq`: `regions` granted for `ms`,
 *                                           counted by the front-end from when it sent `seq`
 *   {t:'inv', seq, key, region, version}    drop `key` (older than `version`), then ack
 *   {t:'drop', seq, regions}                drop every copy of `regions` (given up, cleared), ack
 *   {t:'pend', seq, id, ms, key, region}    an upload is about to commit `key`: drop it, admit
 *   {t:'pend', seq, id, ms, regions}        nothing of it (or of `regions`: delete_all) until
 *                                           mark `id` is released or `ms` ran out, then ack
 *   {t:'rel', id, key?, region?, version?}  mark `id` released (a committed version: drop older
 *                                           copies); not acknowledged, nobody waits for it
 */

export const NEAR_ROUTE = '/v1/subscribe';
export const NEAR_UPGRADE = 'pixpool-near/1';

/** Longest lease a node grants; also bounds how long an unreachable subscriber can hold it up. */
export const NEAR_MAX_LEASE_MS = 30_000;
export const NEAR_MIN_LEASE_MS = 300;
/** The lease a node grants unless told otherwise (--near-lease-ms). */
export const NEAR_DEFAULT_LEASE_MS = 3_000;

/** A grant a front-end accepts: a node's lease within the protocol's bounds. */
export function isLeaseMs(value: unknown): value is number {
  return (
    Number.isSafeInteger(value) &&
    (value as number) >= NEAR_MIN_LEASE_MS &&
    (value as number) <= NEAR_MAX_LEASE_MS
  );
}
/** A subscriber id: the front-end's random name for itself, the same at every node. */
export const NEAR_ID_PATTERN = /^[0-9a-f]{16,64}$/;

/** Longest line either side accepts (a hit batch of many long keys); longer closes the stream. */
export const NEAR_MAX_LINE_BYTES = 1024 * 1024;
/** Most keys in one hit batch. */
export const NEAR_MAX_HIT_KEYS = 2000;

/** What a front-end tells the node about its near cache, shown per front-end by the manager. */
export interface NearReport {
  /** A stable name of the front-end (host:port and pid). */
  name: string;
  items: number;
  bytes: number;
  capacityBytes: number;
  /** Reads answered from the near cache / all reads, since the front-end started. */
  hits: number;
  reads: number;
}

export interface NearLeaseMessage {
  t: 'lease';
  seq: number;
  regions: number[];
  id?: string;
  report?: NearReport;
}
export interface NearAckMessage {
  t: 'ack';
  seq: number;
}
export interface NearHitsMessage {
  t: 'hits';
  hits: Array<[string, number]>;
}
export interface NearByeMessage {
  t: 'bye';
}
export type NearToNode = NearLeaseMessage | NearAckMessage | NearHitsMessage | NearByeMessage;

export interface NearLeasedMessage {
  t: 'leased';
  seq: number;
  regions: number[];
  epoch: number;
  /** How long the lease lasts (the node's setting), from when the front-end sent the request. */
  ms: number;
}
export interface NearInvalidateMessage {
  t: 'inv';
  seq: number;
  key: string;
  region: number;
  version: number;
}
export interface NearDropMessage {
  t: 'drop';
  seq: number;
  regions: number[];
}
export interface NearPendingMessage {
  t: 'pend';
  seq: number;
  id: string;
  ms: number;
  key?: string;
  region?: number;
  regions?: number[];
}
export interface NearReleaseMessage {
  t: 'rel';
  id: string;
  key?: string;
  region?: number;
  version?: number;
}
export type NearToFrontEnd =
  | NearLeasedMessage
  | NearInvalidateMessage
  | NearDropMessage
  | NearPendingMessage
  | NearReleaseMessage;

/** Node statistics of the subscriptions it holds (NodeStats.near). */
export interface NearNodeStats {
  subscribers: number;
  /** Invalidations and drops pushed, and how many waited out a lease instead of an ack. */
  pushes: number;
  expiredWaits: number;
  reports: NearReport[];
}

/**
 * Splits a byte stream into JSON lines. `onLine` gets each parsed value; a line that is too long
 * or not JSON calls `onError` once and stops the splitter (the caller closes the stream).
 * Linear in the bytes received however they are chunked: each chunk is searched once for newlines,
 * and the unfinished line is copied into a buffer that doubles as it grows (at most about twice
 * the longest line allowed, never a header per tiny chunk); a line is decoded as a whole, so a
 * character split across chunks survives.
 */
export class LineSplitter {
  private partial = Buffer.alloc(0);
  private partialBytes = 0;
  private failed = false;

  constructor(
    private readonly onLine: (value: unknown) => void,
    private readonly onError: (why: string) => void,
  ) {}

  push(chunk: Buffer | string): void {
    if (this.failed) return;
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    let start = 0;
    let newline;
    while ((newline = bytes.indexOf(0x0a, start)) >= 0) {
      const line = this.take(bytes.subarray(start, newline));
      start = newline + 1;
      if (line.length === 0) continue;
      let value: unknown;
      try {
        value = JSON.parse(line.toString('utf8'));
      } catch {
        return this.fail('a line is not JSON');
      }
      this.onLine(value);
      if (this.failed) return;
    }
    if (this.partialBytes + bytes.length - start > NEAR_MAX_LINE_BYTES) {
      return this.fail('line too long');
    }
    if (start < bytes.length) this.keep(bytes.subarray(start));
  }

  private keep(bytes: Buffer): void {
    const needed = this.partialBytes + bytes.length;
    if (needed > this.partial.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, this.partial.length * 2, 256));
      this.partial.copy(grown, 0, 0, this.partialBytes);
      this.partial = grown;
    }
    bytes.copy(this.partial, this.partialBytes);
    this.partialBytes = needed;
  }

  /** The line ending with `last`: what was kept of it, joined once. */
  private take(last: Buffer): Buffer {
    if (this.partialBytes === 0) return last;
    const line = Buffer.concat([this.partial.subarray(0, this.partialBytes), last]);
    this.partialBytes = 0;
    if (this.partial.length > 64 * 1024) this.partial = Buffer.alloc(0);
    return line;
  }

  private fail(why: string): void {
    this.failed = true;
    this.partial = Buffer.alloc(0);
    this.partialBytes = 0;
    this.onError(why);
  }
}

export function isRegionList(value: unknown, regionCount: number): value is number[] {
  return (
    Array.isArray(value) &&
    value.length <= regionCount &&
    value.every((r) => Number.isInteger(r) && r >= 0 && r < regionCount)
  );
}
