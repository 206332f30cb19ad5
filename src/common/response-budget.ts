import type { ServerResponse } from 'node:http';
import { ServiceBusyError } from './service-busy.error';

export interface ResponseBudgetLimits {
  /** Body bytes handed to one connection before waiting for its client to take them. */
  maxQueuedBytesPerConnection: number;
  /** Body bytes of every answer still being sent, together; a large answer beyond it gets 503. */
  maxQueuedResponseBytes: number;
}

/** Seconds a refused reader is told to wait: room comes back as slow readers finish or are cut. */
const RETRY_AFTER_S = 1;

/** Keys whose last answer length is remembered for early refusals (a few hundred KiB at most). */
const REMEMBERED_KEYS = 4096;

interface Sending {
  res: ServerResponse;
  length: number;
  /** Bytes not yet handed to the connection. */
  unsent: number;
  waitingOnClient: boolean;
}

/**
 * Bounds the memory that clients who do not read their answers can make the app hold.
 * - Per connection: a body is written a piece of at most maxQueuedBytesPerConnection at a time,
 *   the next piece only once the connection has taken the last (backpressure). A base64 body is
 *   encoded piece by piece as the client reads, never as one 13 MiB string per reader.
 * - In total: an answer larger than one piece counts its whole length (it pins its source until
 *   done) from admission to close; one that would take the total past maxQueuedResponseBytes is
 *   refused with 503 + Retry-After before a byte is written. Smaller answers always pass: each
 *   holds at most one piece, and connections are capped (limits.maxConnections).
 * A reader that takes nothing for limits.responseIdleTimeoutMs is cut (server-limits.ts), which
 * closes its answer and gives its room back.
 */
export class ResponseBudget {
  private readonly sending = new Set<Sending>();
  private admitted = 0;
  /** Body length last sent per key (a bounded, insertion-ordered map): see refuseEarly. */
  private readonly lengthOf = new Map<string, number>();

  constructor(private readonly limits: ResponseBudgetLimits) {}

  /**
   * Refuses a read before its bytes are fetched when the key's last answer was large and there
   * is no room for one now: hundreds of stalled readers of one big image must not each pull a
   * copy from the pool only to be refused. The length is a hint (the key may have changed since);
   * it only ever turns a read into a 503 to retry, never into an answer.
   */
  refuseEarly(key: string): void {
    const length = this.lengthOf.get(key);
    if (length !== undefined && !this.hasRoomFor(length)) throw this.busy();
  }

  /**
   * Sends a body of `length` bytes made of `pieces` (produced lazily), after `start` has set the
   * status and headers. Throws ServiceBusyError, before calling `start`, when there is no room.
   */
  send(
    res: ServerResponse,
    key: string,
    length: number,
    pieces: Iterable<Buffer | string>,
    start: () => void,
  ): void {
    this.remember(key, length);
    if (!this.hasRoomFor(length)) throw this.busy();
    const large = length > this.limits.maxQueuedBytesPerConnection;
    const entry: Sending = { res, length, unsent: length, waitingOnClient: false };
    this.sending.add(entry);
    if (large) this.admitted += length;
    res.once('close', () => {
      this.sending.delete(entry);
      if (large) this.admitted -= length;
    });
    start();
    void this.pump(entry, pieces[Symbol.iterator]()).catch(() => res.destroy());
  }

  private hasRoomFor(length: number): boolean {
    const large = length > this.limits.maxQueuedBytesPerConnection;
    return !large || this.admitted + length <= this.limits.maxQueuedResponseBytes;
  }

  private busy(): ServiceBusyError {
    return new ServiceBusyError(
      `too many large answers waiting for slow clients (limits.maxQueuedResponseBytes); ` +
        `retry in ${RETRY_AFTER_S} s`,
      RETRY_AFTER_S,
    );
  }

  private remember(key: string, length: number): void {
    this.lengthOf.delete(key);
    this.lengthOf.set(key, length);
    if (this.lengthOf.size > REMEMBERED_KEYS) {
      this.lengthOf.delete(this.lengthOf.keys().next().value as string);
    }
  }

  /** Bytes of answers not yet taken by their clients' connections (queued or not yet written). */
  heldBytes(): number {
    let held = 0;
    for (const s of this.sending) held += s.unsent + s.res.writableLength;
    return held;
  }

  /** Answers waiting for their client to read before the next piece. */
  waitingOnClients(): number {
    let waiting = 0;
    for (const s of this.sending) if (s.waitingOnClient) waiting++;
    return waiting;
  }

  /** The body bytes (not the source) one piece may hold: what a piece writer should yield. */
  get pieceBytes(): number {
    return this.limits.maxQueuedBytesPerConnection;
  }

  private async pump(entry: Sending, pieces: Iterator<Buffer | string>): Promise<void> {
    const { res } = entry;
    for (let next = pieces.next(); !next.done; next = pieces.next()) {
      if (res.destroyed) return;
      const piece = next.value;
      entry.unsent -= typeof piece === 'string' ? Buffer.byteLength(piece) : piece.length;
      if (res.write(piece)) continue;
      entry.waitingOnClient = true;
      const open = await drained(res);
      entry.waitingOnClient = false;
      if (!open) return;
    }
    res.end();
  }
}

/** Raw bytes in pieces of at most `pieceBytes` (views, never copies). */
export function* rawPieces(body: Buffer, pieceBytes: number): Generator<Buffer> {
  for (let at = 0; at < body.length; at += pieceBytes) yield body.subarray(at, at + pieceBytes);
}

/**
 * `body` as base64 in pieces of at most `pieceBytes` characters: each encodes a multiple of
 * 3 source bytes, so the pieces join into exactly body.toString('base64').
 */
export function* base64Pieces(body: Buffer, pieceBytes: number): Generator<string> {
  const sourceBytes = Math.max(3, Math.floor(pieceBytes / 4) * 3);
  for (let at = 0; at < body.length; at += sourceBytes) {
    yield body.toString('base64', at, Math.min(at + sourceBytes, body.length));
  }
}

export function base64Length(bytes: number): number {
  return Math.ceil(bytes / 3) * 4;
}

/** Resolves true when the connection has taken what was queued, false when it closed first. */
function drained(res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const onDrain = () => settle(true);
    const onClose = () => settle(false);
    const settle = (open: boolean) => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(open);
    };
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}
