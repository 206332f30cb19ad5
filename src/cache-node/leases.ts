/**
 * Fill leases (memcache leases: Nishtala et al., "Scaling Memcache at Facebook", NSDI 2013).
 * A miss hands out a token; a fill is accepted only with a token that is still in this table, and
 * an invalidation of the key voids it. A lost lease (expired, pushed out by the byte bound, the
 * node restarted) only makes a fill fail, which is safe: the next read misses and fills again.
 */

import { VariantGroups } from '../protocol/variant-groups';

/** Heap cost of one lease besides its key: record, token string, Map slot. */
const LEASE_OVERHEAD_BYTES = 200;
/** Expired records swept per issue, so the sweep cost is spread over requests. */
const SWEEP_PER_ISSUE = 4;

export interface LeaseOptions {
  ttlMs: number;
  maxBytes: number;
}

interface Lease {
  readonly token: string;
  readonly region: number;
  readonly expiresAt: number;
  readonly bytes: number;
}

export class LeaseTable {
  /** Insertion order is issue order (a lease is never refreshed), so the oldest come first. */
  private readonly leases = new Map<string, Lease>();
  private readonly variants = new VariantGroups();
  private bytes = 0;
  /** Random start: tokens from before a restart do not match the new node's tokens. */
  private counter = Math.floor(Math.random() * 2 ** 40);

  constructor(
    private readonly options: LeaseOptions,
    private readonly now: () => number,
  ) {}

  get size(): number {
    return this.leases.size;
  }

  /**
   * The key's live lease, or a new one. Concurrent missers share one token: any of them may fill,
   * and all fills are void once the key is invalidated, which is what makes sharing safe.
   */
  issue(key: string, region: number, keyBytes: number): string {
    const now = this.now();
    this.sweep(now, SWEEP_PER_ISSUE);
    const live = this.leases.get(key);
    if (live && live.expiresAt > now && live.region === region) return live.token;
    if (live) this.delete(key, live);
    const lease: Lease = {
      token: (++this.counter).toString(36),
      region,
      expiresAt: now + this.options.ttlMs,
      bytes: keyBytes + LEASE_OVERHEAD_BYTES,
    };
    this.leases.set(key, lease);
    this.variants.add(key);
    this.bytes += lease.bytes;
    while (this.bytes > this.options.maxBytes) this.dropOldest();
    return lease.token;
  }

  /** Uses up the key's lease; true iff `token` was still valid for this key and region. */
  redeem(key: string, region: number, token: string): boolean {
    const lease = this.leases.get(key);
    if (!lease) return false;
    this.delete(key, lease);
    return lease.token === token && lease.region === region && lease.expiresAt > this.now();
  }

  void(key: string): void {
    const lease = this.leases.get(key);
    if (lease) this.delete(key, lease);
  }

  /** The original's lease and every lease of a variant of it: all of them read the old bytes. */
  voidWithVariants(original: string): void {
    this.void(original);
    for (const variant of this.variants.variantsOf(original)) this.void(variant);
  }

  voidRegions(regions: ReadonlySet<number>): void {
    for (const [key, lease] of this.leases) if (regions.has(lease.region)) this.delete(key, lease);
  }

  clear(): void {
    this.leases.clear();
    this.variants.clear();
    this.bytes = 0;
  }

  /** Drops expired records from the oldest on, at most `max` of them. */
  sweep(now: number = this.now(), max = Infinity): void {
    for (const [key, lease] of this.leases) {
      if (max-- <= 0 || lease.expiresAt > now) return;
      this.delete(key, lease);
    }
  }

  private dropOldest(): void {
    for (const [key, lease] of this.leases) return this.delete(key, lease);
  }

  private delete(key: string, lease: Lease): void {
    this.leases.delete(key);
    this.variants.remove(key);
    this.bytes -= lease.bytes;
  }
}
