/** Whether a client may go on, and if not, how long until it may. */
export type Take = { ok: true } | { ok: false; retryAfterMs: number };

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * One token bucket per client: it holds at most `burst` tokens, refills at `perMinute`, and each
 * request takes one. A client may burst, then go on at the sustained rate; a refused one is told
 * when its next token comes (Retry-After). Memory is bounded: at most `maxClients` buckets are
 * kept; beyond that the least recently used is dropped, which only forgives that client (a new
 * bucket starts full), never refuses anyone wrongly.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;

  constructor(
    perMinute: number,
    private readonly burst: number,
    private readonly maxClients: number,
    private readonly now: () => number = Date.now,
  ) {
    this.perMs = perMinute / 60_000;
  }

  take(client: string): Take {
    const now = this.now();
    const bucket = this.buckets.get(client) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + (now - bucket.at) * this.perMs);
    bucket.at = now;
    // Re-inserted, so the Map's order is least recently used first.
    this.buckets.delete(client);
    this.buckets.set(client, bucket);
    if (this.buckets.size > this.maxClients) {
      this.buckets.delete(this.buckets.keys().next().value as string);
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterMs: Math.ceil((1 - bucket.tokens) / this.perMs) };
  }

  /** Clients currently remembered (for tests and metrics). */
  get size(): number {
    return this.buckets.size;
  }
}
