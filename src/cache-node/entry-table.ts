import type { NodePolicy } from '../protocol/cache-node.protocol';
import { internContentType } from './content-types';
import { ENTRY_OVERHEAD_BYTES, Entry, entrySize } from './entry';
import { createPolicy, type RandomSource, type ReplacementPolicy } from './policies';
import { blockBytes, largestFitting, ValuePool } from './value-pool';
import { VariantGroups } from '../protocol/variant-groups';

/** Recycled blocks kept beyond the live entries: a sixteenth of the capacity, at least 4 MiB. */
function poolBudget(capacityBytes: number): number {
  return Math.max(4 * 1024 * 1024, Math.floor(capacityBytes / 16));
}

export interface NewEntry {
  key: string;
  region: number;
  value: Buffer;
  contentType: string;
  version: number;
}

/**
 * The entries themselves: a Map, the replacement policy's order, byte accounting against the
 * capacity, and the value blocks (value-pool.ts). Knows nothing of versions or leases: the rules
 * for what may be written are CacheStore's.
 */
export class EntryTable {
  private readonly entries = new Map<string, Entry>();
  /** The variants held, by original (invalidated with it: store.ts). */
  readonly variants = new VariantGroups();
  private policy: ReplacementPolicy;
  private readonly pool: ValuePool;
  bytesUsed = 0;
  evictions = 0;

  constructor(
    public capacityBytes: number,
    policy: NodePolicy,
    private readonly random: RandomSource,
  ) {
    this.policy = createPolicy(policy, random);
    this.pool = new ValuePool(poolBudget(capacityBytes));
  }

  get size(): number {
    return this.entries.size;
  }
  get policyName(): NodePolicy {
    return this.policy.name;
  }
  get pooledBytes(): number {
    return this.pool.pooledBytes;
  }

  /** Memory for a value about to be written. Bound, to pass as a callback. */
  readonly acquireValue = (length: number): Buffer => this.pool.acquire(length);

  /** A value acquired but not stored: its block can be reused. Bound, to pass as a callback. */
  readonly discardValue = (value: Buffer): void => this.pool.release(value);

  /** Someone is about to write entry.value out; endRead() once the write completed. */
  beginRead(entry: Entry): void {
    entry.readers++;
  }

  endRead(entry: Entry): void {
    if (--entry.readers === 0 && entry.retired) this.pool.release(entry.value);
  }

  /** Largest value (bytes) that fits with this key and content type; negative if none does. */
  maxValueBytes(keyBytes: number, contentTypeBytes: number): number {
    return largestFitting(this.capacityBytes - keyBytes - contentTypeBytes - ENTRY_OVERHEAD_BYTES);
  }

  /** A read: counts as a use for the policy. */
  get(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry) this.policy.touch(entry);
    return entry;
  }

  peek(key: string): Entry | undefined {
    return this.entries.get(key);
  }

  /** Stores (replacing `held`, evicting as needed), or refuses an entry larger than the capacity. */
  insert(write: NewEntry, held: Entry | undefined): 'stored' | 'too_large' {
    const contentType = internContentType(write.contentType);
    const size = entrySize(
      Buffer.byteLength(write.key) + contentType.length,
      blockBytes(write.value.length),
    );
    if (size > this.capacityBytes) return 'too_large';
    if (held) this.remove(held);
    this.makeRoom(size);
    const entry = new Entry(write.key, write.region, write.value, contentType, write.version, size);
    this.entries.set(write.key, entry);
    this.variants.add(write.key);
    this.policy.admit(entry);
    this.bytesUsed += size;
    return 'stored';
  }

  remove(entry: Entry): void {
    this.entries.delete(entry.key);
    this.variants.remove(entry.key);
    this.policy.remove(entry);
    this.bytesUsed -= entry.size;
    this.retire(entry);
  }

  clear(): number {
    const count = this.entries.size;
    for (const entry of this.policy.entries()) {
      entry.resetPolicyState();
      this.retire(entry);
    }
    this.entries.clear();
    this.variants.clear();
    this.policy = createPolicy(this.policy.name, this.random);
    this.bytesUsed = 0;
    return count;
  }

  ofRegions(regions: ReadonlySet<number>): Entry[] {
    const out: Entry[] = [];
    for (const entry of this.entries.values()) if (regions.has(entry.region)) out.push(entry);
    return out;
  }

  /** Evicts at once down to the new capacity; returns how many entries went. */
  setCapacity(capacityBytes: number): number {
    this.capacityBytes = capacityBytes;
    const evicted = this.makeRoom(0);
    this.pool.setMaxPooledBytes(poolBudget(capacityBytes));
    return evicted;
  }

  /** Rebuilds the new policy's order from the old one's, so the first to go stays first. */
  setPolicy(name: NodePolicy): void {
    if (name === this.policy.name) return;
    const ordered = this.policy.entries();
    this.policy = createPolicy(name, this.random);
    for (const entry of ordered) {
      entry.resetPolicyState();
      this.policy.admit(entry);
    }
  }

  private makeRoom(incoming: number): number {
    let evicted = 0;
    while (this.bytesUsed + incoming > this.capacityBytes) {
      const victim = this.policy.victim();
      if (!victim) break;
      this.remove(victim);
      evicted++;
    }
    this.evictions += evicted;
    return evicted;
  }

  /** The block goes back to the pool now, or when the last reader is done with it. */
  private retire(entry: Entry): void {
    if (entry.readers === 0) this.pool.release(entry.value);
    else entry.retired = true;
  }
}
