import { VariantGroups } from '../protocol/variant-groups';

/** Bytes charged per entry beyond its key and value: the record, its header list, the map slot. */
export const NEAR_ENTRY_OVERHEAD_BYTES = 600;

/** One near copy, with the answer's headers prepared once (the fast path writes them as they are). */
export interface NearEntry {
  readonly key: string;
  readonly region: number;
  readonly version: number;
  readonly body: Buffer;
  readonly contentType: string;
  readonly etag: string;
  /** Flat [name, value, ...] lists for writeHead: a 200 with the bytes, and a 304. */
  readonly headers: string[];
  readonly notModifiedHeaders: string[];
  /** The region's generation at admission: the copy is dead once the region's moves on. */
  readonly generation: number;
  readonly bytes: number;
  visited: boolean;
  newer: NearEntry | null;
  older: NearEntry | null;
}

/**
 * The near copies of one front-end, bounded by bytes, evicted by SIEVE (Zhang et al., NSDI'24): a
 * hit only sets a bit, so the hot path never reorders a list; the hand walks from the oldest entry
 * and evicts the first one not visited since it last passed.
 */
export class NearStore {
  private readonly entries = new Map<string, NearEntry>();
  private readonly variants = new VariantGroups();
  private newest: NearEntry | null = null;
  private oldest: NearEntry | null = null;
  private hand: NearEntry | null = null;
  private used = 0;

  constructor(readonly capacityBytes: number) {}

  get size(): number {
    return this.entries.size;
  }
  get bytesUsed(): number {
    return this.used;
  }

  /** Without marking it visited (the caller does once it decided to serve it). */
  peek(key: string): NearEntry | undefined {
    return this.entries.get(key);
  }

  /** Replaces any copy of the key; false if the entry can never fit. */
  set(entry: NearEntry): boolean {
    // One entry may take at most an eighth: a few huge images must not flush every hot one.
    if (entry.bytes > this.capacityBytes / 8) return false;
    this.delete(entry.key);
    while (this.used + entry.bytes > this.capacityBytes && this.oldest) this.evictOne();
    this.entries.set(entry.key, entry);
    this.variants.add(entry.key);
    entry.older = this.newest;
    entry.newer = null;
    if (this.newest) this.newest.newer = entry;
    this.newest = entry;
    this.oldest ??= entry;
    this.used += entry.bytes;
    return true;
  }

  delete(key: string): NearEntry | undefined {
    const entry = this.entries.get(key);
    if (entry) this.unlink(entry);
    return entry;
  }

  /** The copies of variants of `original` rendered from a version below `version`. */
  deleteVariants(original: string, version: number): void {
    for (const key of this.variants.variantsOf(original)) {
      const entry = this.entries.get(key);
      if (entry && entry.version < version) this.unlink(entry);
    }
  }

  /** Drops every entry for which `dead` holds (dead regions, at the periodic sweep). */
  sweep(dead: (entry: NearEntry) => boolean): number {
    let dropped = 0;
    for (const entry of [...this.entries.values()]) {
      if (dead(entry)) {
        this.unlink(entry);
        dropped++;
      }
    }
    return dropped;
  }

  clear(): void {
    this.entries.clear();
    this.variants.clear();
    this.newest = this.oldest = this.hand = null;
    this.used = 0;
  }

  private evictOne(): void {
    let candidate = this.hand ?? this.oldest;
    while (candidate && candidate.visited) {
      candidate.visited = false;
      candidate = candidate.newer ?? this.oldest;
    }
    if (!candidate) return;
    this.hand = candidate.newer;
    this.unlink(candidate);
  }

  private unlink(entry: NearEntry): void {
    if (this.entries.get(entry.key) !== entry) return;
    this.entries.delete(entry.key);
    this.variants.remove(entry.key);
    if (this.hand === entry) this.hand = entry.newer;
    if (entry.newer) entry.newer.older = entry.older;
    else this.newest = entry.older;
    if (entry.older) entry.older.newer = entry.newer;
    else this.oldest = entry.newer;
    entry.newer = entry.older = null;
    this.used -= entry.bytes;
  }
}
