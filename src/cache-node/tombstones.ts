/**
 * Recent invalidations, key → highest invalidated version, so that put-if-newer writes (imports,
 * unleased puts) older than an acknowledged upload are refused even after the entry itself is gone.
 * Bounded by a TTL and a byte budget; a tombstone that leaves the table is reported through
 * `onLost` so the store can keep a conservative per-region floor instead (see store.ts).
 */

/** Heap cost of one tombstone besides its key: record, boxed version, Map slot. */
const TOMBSTONE_OVERHEAD_BYTES = 160;
const SWEEP_PER_RECORD = 4;

export interface TombstoneOptions {
  ttlMs: number;
  maxBytes: number;
}

export interface Tombstone {
  readonly version: number;
  readonly region: number;
  readonly expiresAt: number;
  readonly bytes: number;
}

export type TombstoneLost = (region: number, version: number) => void;

export class TombstoneTable {
  /** Insertion order is age order: a re-recorded key is deleted and appended. */
  private readonly tombstones = new Map<string, Tombstone>();
  private bytes = 0;

  constructor(
    private readonly options: TombstoneOptions,
    private readonly now: () => number,
    private readonly onLost: TombstoneLost,
  ) {}

  get size(): number {
    return this.tombstones.size;
  }

  /** Highest invalidated version of the key still remembered, or -1. */
  versionOf(key: string): number {
    const tombstone = this.tombstones.get(key);
    if (!tombstone) return -1;
    if (tombstone.expiresAt > this.now()) return tombstone.version;
    this.lose(key, tombstone);
    return -1;
  }

  record(key: string, region: number, version: number, keyBytes: number): void {
    const now = this.now();
    this.sweep(now, SWEEP_PER_RECORD);
    const old = this.tombstones.get(key);
    if (old) {
      this.tombstones.delete(key);
      this.bytes -= old.bytes;
      // Same key in another region means the caller changed its hashing; keep the old one's floor.
      if (old.region !== region) this.onLost(old.region, old.version);
    }
    const tombstone: Tombstone = {
      version: old && old.region === region ? Math.max(old.version, version) : version,
      region,
      expiresAt: now + this.options.ttlMs,
      bytes: keyBytes + TOMBSTONE_OVERHEAD_BYTES,
    };
    this.tombstones.set(key, tombstone);
    this.bytes += tombstone.bytes;
    while (this.bytes > this.options.maxBytes) this.loseOldest();
  }

  /** Live tombstones of these regions (for a transfer). */
  ofRegions(regions: ReadonlySet<number>): Array<[string, Tombstone]> {
    const now = this.now();
    const out: Array<[string, Tombstone]> = [];
    for (const entry of this.tombstones) {
      if (regions.has(entry[1].region) && entry[1].expiresAt > now) out.push(entry);
    }
    return out;
  }

  clear(): void {
    for (const [key, tombstone] of this.tombstones) this.lose(key, tombstone);
  }

  /** Drops expired records from the oldest on, at most `max` of them. */
  sweep(now: number = this.now(), max = Infinity): void {
    for (const [key, tombstone] of this.tombstones) {
      if (max-- <= 0 || tombstone.expiresAt > now) return;
      this.lose(key, tombstone);
    }
  }

  private loseOldest(): void {
    for (const [key, tombstone] of this.tombstones) return this.lose(key, tombstone);
  }

  private lose(key: string, tombstone: Tombstone): void {
    this.tombstones.delete(key);
    this.bytes -= tombstone.bytes;
    this.onLost(tombstone.region, tombstone.version);
  }
}
