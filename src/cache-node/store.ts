/*
 * The cache node's store: entries bounded by bytes, a switchable replacement policy, and the
 * write rules that keep the pool's promise "no stale read after an acknowledged upload"
 * (DESIGN.md, Consistency rules).
 *
 * Protocol (the app's side is in src/pool): versions are safe integers that grow per key. An
 * upload commits version v durably, then invalidates the key at its owner (DELETE with v); the
 * upload is acknowledged only once an owner answered that invalidation. A read that misses gets a
 * lease, then reads the truth (row + blob) and fills with PUT ...&lease.
 *
 * Three kinds of write, three rules:
 * 1. Lease fill: accepted iff the lease is still in the table (issued for this key and region, not
 *    expired, not used) and v >= the entry's version and v >= any tombstone. Invalidating a key
 *    voids its lease; so does clear(), losing the region, and gaining it. Hence an accepted fill
 *    read the truth after its lease was issued, and no invalidation reached this node since: any
 *    upload acknowledged before the fill was committed before that read, so the fill carries that
 *    upload or a newer one. A lease that is lost (TTL, byte bound, restart) only fails the fill.
 *    (The tombstone check is a second line of defence, e.g. against a replica lagging behind.)
 * 2. Import (region transfer, put-if-newer): refused if the node holds the same or a newer
 *    version, a tombstone > v, or v < floor[region], where floor is the highest version of any
 *    tombstone of that region that left the table (TTL, byte bound, clear) since the node gained
 *    the region. So dropping a tombstone never forgets it: it degrades into the floor, which only
 *    refuses more. Why tombstones since the gain suffice: an imported entry can only be stale for
 *    an upload whose invalidation the sender never saw, i.e. one acknowledged here, by the new
 *    owner (the sender drops entries on invalidation, even when it answers 421, and ships its
 *    tombstones after its entries; uploads acknowledged before this node gained the region were
 *    committed before any read this tenure can fill from). This needs the manager to take a region
 *    from its old owner before giving it to the new one, so two nodes never own it at once, and
 *    the import to carry the epoch the receiver is at (import.ts refuses any other).
 * 3. Unleased put (write-through by the writer of the newest version, tools, benchmarks): the same
 *    checks as an import, but v == held version replaces (idempotent). Not safe for a reader
 *    filling a miss: that is what leases are for.
 * 4. Data clear (delete_all) during a transfer: the clear carries V, the version the clear's
 *    transaction took from the database's counter (src/database/version-counter.ts): every row it
 *    deleted has a version below V, every later commit one above. The node drops everything and
 *    raises every region's floor to V. Frames the old owner wrote before its own clear may still
 *    be in flight (socket buffers, a slow link) and land here after it: they carry versions below
 *    V and rule 2 refuses them, so a deleted image never comes back; anything uploaded after the
 *    clear is above V and moves as usual. Crash: a node that restarts has no floors but owns no
 *    stale entries either, and a transfer stream dies with its connection. A node the clear did
 *    not reach is quarantined by the app and rejoins empty, at a new epoch, which refuses frames
 *    of the old one (import.ts). Without V (a cache clear) the floors keep only tombstones: the
 *    images still exist, so a late frame is a valid copy.
 * Gaining a region also purges whatever this node still held of it from an earlier tenure.
 * 4. Pending keys (pending-keys.ts): while a key is marked pending by an upload that has not
 *    committed yet, every write of it is refused ('pending') and no lease is issued for it.
 *
 * Variants (src/protocol/variant-key.ts): a variant is an entry of its own, in its original's
 * region, carrying the version of the original it was rendered from. Invalidating an original
 * removes every variant of it, voids their leases, and its tombstone condemns their older
 * versions too (every check below reads the original's tombstone for a variant), all in the one
 * synchronous step that handles the original: no variant of an older version survives an
 * invalidation its original saw, and the three rules hold for variants word for word (a variant
 * fill's lease was issued before its renderer read the original).
 *
 * Bounded memory: leases and tombstones have TTLs and byte budgets; the floors are 16 numbers.
 *
 * Memory: entries are charged key + content type + the value's block + ENTRY_OVERHEAD_BYTES and
 * never exceed capacityBytes; evicted blocks are recycled through a bounded pool (value-pool.ts).
 *
 * Ownership of values: a value passed to fill/put/import belongs to the store from then on (it is
 * stored, or recycled when refused), so callers get values from table.acquireValue() and never
 * touch them again.
 */
import { NODE_REGION_COUNT, type NodePolicy } from '../protocol/cache-node.protocol';
import { originalKeyOf } from '../protocol/variant-key';
import type { Entry } from './entry';
import { EntryTable, type NewEntry } from './entry-table';
import { LeaseTable, type LeaseOptions } from './leases';
import { PendingKeys } from './pending-keys';
import type { RandomSource } from './policies';
import { TombstoneTable, type TombstoneOptions, type Tombstone } from './tombstones';

export interface StoreOptions {
  capacityBytes: number;
  policy: NodePolicy;
  leases: LeaseOptions;
  tombstones: TombstoneOptions;
  now?: () => number;
  random?: RandomSource;
}

export type WriteRequest = NewEntry;

/** `kept`: an import the node already had at that version or newer. */
export type WriteOutcome =
  'stored' | 'too_large' | 'kept' | 'version' | 'tombstone' | 'lease' | 'pending';

export interface RegionDrop {
  entries: number;
  bytes: number;
}

export class CacheStore {
  /** Capacity, policy, eviction and value memory; read by the routes for stats and hits. */
  readonly table: EntryTable;
  private readonly leases: LeaseTable;
  private readonly tombstones: TombstoneTable;
  /** Keys an upload is writing (pending-keys.ts); read by the routes and transfers. */
  readonly pending: PendingKeys;
  private readonly floors = new Array<number>(NODE_REGION_COUNT).fill(-1);

  constructor(options: StoreOptions) {
    const now = options.now ?? Date.now;
    this.table = new EntryTable(
      options.capacityBytes,
      options.policy,
      options.random ?? Math.random,
    );
    this.leases = new LeaseTable(options.leases, now);
    this.pending = new PendingKeys(now);
    this.tombstones = new TombstoneTable(options.tombstones, now, (region, version) => {
      if (version > this.floors[region]) this.floors[region] = version;
    });
  }

  get leaseCount(): number {
    return this.leases.size;
  }
  get tombstoneCount(): number {
    return this.tombstones.size;
  }

  /** Forgets expired leases and tombstones now rather than on the next write (for stats). */
  sweepExpired(): void {
    this.leases.sweep();
    this.tombstones.sweep();
  }

  issueLease(key: string, region: number): string {
    return this.leases.issue(key, region, Buffer.byteLength(key));
  }

  /** A miss's fill lease; undefined while the key is pending (nobody may fill it then). */
  leaseUnlessPending(key: string, region: number): string | undefined {
    return this.pending.isPending(key, region) ? undefined : this.issueLease(key, region);
  }

  fill(write: WriteRequest, lease: string): WriteOutcome {
    return this.settle(write, this.checkFill(write, lease));
  }

  put(write: WriteRequest): WriteOutcome {
    if (this.pending.isPending(write.key, write.region)) return this.settle(write, 'pending');
    const held = this.table.peek(write.key);
    if (held && held.version > write.version) return this.settle(write, 'version');
    return this.settle(write, this.checkTombstones(write) ?? this.table.insert(write, held));
  }

  import(write: WriteRequest): WriteOutcome {
    if (this.pending.isPending(write.key, write.region)) return this.settle(write, 'pending');
    const held = this.table.peek(write.key);
    if (held && held.version >= write.version) return this.settle(write, 'kept');
    return this.settle(write, this.checkTombstones(write) ?? this.table.insert(write, held));
  }

  /** Drops the entry, voids its lease, remembers the version. True if an entry was dropped. */
  invalidate(key: string, region: number, version: number): boolean {
    const held = this.table.peek(key);
    if (held) this.table.remove(held);
    this.dropVariants(key, version);
    this.leases.voidWithVariants(key);
    this.tombstones.record(key, region, version, Buffer.byteLength(key));
    return held !== undefined;
  }

  /**
   * An upload of the key is about to commit (pending-keys.ts step 1): the copy and the lease go in
   * this same step as the mark. Returns the mark's granted ms and whether a copy was dropped.
   */
  markPending(
    key: string,
    region: number,
    id: string,
    ms: number,
  ): { removed: boolean; ms: number } {
    const held = this.table.peek(key);
    if (held) this.table.remove(held);
    // Its variants go with it and stay pending with it (PendingKeys.isPending).
    this.dropVariants(key, Infinity);
    this.leases.voidWithVariants(key);
    return { removed: held !== undefined, ms: this.pending.mark(key, region, id, ms) };
  }

  /**
   * The upload committed `version` (or, without one, gave up before committing): the mark goes,
   * and a committed version stays as a tombstone, so nothing older is stored from now on.
   */
  release(key: string, region: number, id: string, version: number | undefined): boolean {
    this.pending.release(key, id);
    return version === undefined ? false : this.invalidate(key, region, version);
  }

  /** delete_all / clear data: everything goes and nothing of `regions` is stored until released. */
  markAllPending(regions: readonly number[], id: string, ms: number): number {
    const granted = this.pending.markRegions(regions, id, ms);
    this.clear();
    return granted;
  }

  /** A tombstone shipped by the region's previous owner: an invalidation it saw and we may not. */
  importTombstone(key: string, region: number, version: number): void {
    const held = this.table.peek(key);
    // A tombstone says "older than v is stale": the entry of version v itself is the upload.
    if (held && held.version < version) this.table.remove(held);
    this.dropVariants(key, version);
    this.leases.voidWithVariants(key);
    this.tombstones.record(key, region, version, Buffer.byteLength(key));
  }

  /** The variants of `original` rendered from a version older than `version`. */
  private dropVariants(original: string, version: number): void {
    for (const key of this.table.variants.variantsOf(original)) {
      const variant = this.table.peek(key);
      if (variant && variant.version < version) this.table.remove(variant);
    }
  }

  /** A key's tombstone version; a variant's is its original's too. */
  private tombstoneOf(key: string): number {
    const original = originalKeyOf(key);
    const own = this.tombstones.versionOf(key);
    return original === key ? own : Math.max(own, this.tombstones.versionOf(original));
  }

  /**
   * Everything goes, tombstones too (their versions stay in the region floors). A data clear
   * passes `deletedBelow` (rule 4): every floor rises to it.
   */
  clear(deletedBelow = -1): number {
    this.leases.clear();
    this.tombstones.clear();
    for (let region = 0; region < NODE_REGION_COUNT; region++) {
      if (deletedBelow > this.floors[region]) this.floors[region] = deletedBelow;
    }
    return this.table.clear();
  }

  tombstonesOf(regions: ReadonlySet<number>): Array<[string, Tombstone]> {
    return this.tombstones.ofRegions(regions);
  }

  dropRegions(regions: ReadonlySet<number>): RegionDrop {
    const dropped = this.table.ofRegions(regions);
    let bytes = 0;
    for (const entry of dropped) {
      bytes += entry.value.length;
      this.table.remove(entry);
    }
    this.leases.voidRegions(regions);
    return { entries: dropped.length, bytes };
  }

  /** A new tenure: leftovers of an earlier one may be stale, and old tombstones no longer matter. */
  regionsGained(regions: ReadonlySet<number>): void {
    this.dropRegions(regions);
    for (const region of regions) this.floors[region] = -1;
  }

  /** Fills in flight for a region this node no longer owns must not land if it comes back. */
  regionsLost(regions: ReadonlySet<number>): void {
    this.leases.voidRegions(regions);
  }

  private checkFill(write: WriteRequest, lease: string): WriteOutcome {
    if (this.pending.isPending(write.key, write.region)) return 'pending';
    if (!this.leases.redeem(write.key, write.region, lease)) return 'lease';
    const held = this.table.peek(write.key);
    if (held && held.version > write.version) return 'version';
    if (this.tombstoneOf(write.key) > write.version) return 'tombstone';
    return this.table.insert(write, held);
  }

  /**
   * A tombstone of version v is recorded after v was committed: it condemns versions below v, not
   * v itself, which is the upload (refusing it would keep every key uploaded within the tombstone
   * TTL from moving with its region).
   */
  private checkTombstones(write: WriteRequest): WriteOutcome | undefined {
    const floor = Math.max(this.tombstoneOf(write.key), this.floors[write.region]);
    return floor > write.version ? 'tombstone' : undefined;
  }

  /** A refused value is stored nowhere: recycle its block. */
  private settle(write: WriteRequest, outcome: WriteOutcome): WriteOutcome {
    if (outcome !== 'stored') this.table.discardValue(write.value);
    return outcome;
  }
}

export type { Entry };
