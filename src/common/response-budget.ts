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

  constructor(private readonly limits: ResponseBudgetLimits) {}

  /**
   * Sends a body of `length` bytes made of `pieces` (produced lazily), after `start` has set the
   * status and headers. Throws ServiceBusyError, before calling `start`, when there is no room.
   */
  send(
    res: ServerResponse,
    length: number,
    pieces: Iterable<Buffer | string>,
    start: () => void,
  ): void {
    const large = length > this.limits.maxQueuedBytesPerConnection;
    if (large && this.admitted + length > this.limits.maxQueuedResponseBytes) {
      throw new ServiceBusyError(
        `too many large answers waiting for slow clients (limits.maxQueuedResponseBytes); ` +
          `retry in ${RETRY_AFTER_S} s`,
        RETRY_AFTER_S,
      );
    }
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
