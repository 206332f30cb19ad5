/*
 * Pending keys: the node's half of "invalidate before commit" (the app's half and the whole
 * protocol: src/frontend/write-fence.ts).
 *
 * Invariant (P): while a key (or its region, for delete_all) carries a live mark, this node holds
 * no copy of it, hands out no fill lease for it, and stores nothing of it (fill, put or import):
 * every read of the key here is a miss that the reader answers from the database.
 *
 * Steps, per upload of (key, v):
 * 1. mark(key, id, ms): before the upload commits. The store drops its copy and voids the key's
 *    lease in the same synchronous step, so no fill whose data was read before the mark can land.
 *    The mark lives `ms` (a lease: granted here, capped) unless released.
 * 2. The uploader commits v in the database, before its mark can have run out here (it counts
 *    from when it sent the mark, which is earlier than when we received it).
 * 3. release(key, id) with v: the mark goes and a tombstone of v stays (store.ts), so from now on
 *    nothing older than v is stored. Fills resume: their leases are issued after the release, so
 *    their data is read after the commit, and is v or newer.
 * Overlapping uploads of one key each hold their own mark: the key stays pending until the last
 * is released.
 *
 * Linearization points (why no read returns an older version after any read returned a newer):
 * - a write: its commit; a read from the database: its row read;
 * - a hit here (or in a near cache admitted from here) returning v at time t: an entry of v
 *   exists at t only if no write newer than v committed before t. A write of v' > v committing at
 *   c' < t marked this node before c' (step 1 finished before the commit was sent); that mark
 *   dropped any copy, and from then on the only entries that can be stored come from leases
 *   issued after the release, i.e. from database reads after c', which return v' or newer, and
 *   the tombstone of v' refuses v. So the hit returns the latest version committed at t: the
 *   hit is linearized at t. Reads that miss are linearized at their database read.
 * Hence every read returns the latest version committed at its linearization point, which lies
 * inside the read; such a history is linearizable, and in particular no read that starts after a
 * read of v ended returns anything older than v.
 *
 * Crash / failure at each step:
 * - uploader dies after 1: the mark runs out; nothing was committed, so fills of the old version
 *   are correct again.
 * - uploader dies after 2: the mark runs out without the tombstone, but the commit preceded the
 *   expiry, so every lease issued after it reads v or newer; the outbox replays the release
 *   (an invalidation of v) to restore the tombstone.
 * - this node restarts: it forgets marks, but a restarted node owns nothing until told and is
 *   treated as a rejoin (empty); an uploader whose mark went unanswered quarantines it.
 * - region handed over: its marks travel with its entries and tombstones (transfer-stream.ts).
 * Memory: one record per upload in flight, each gone at release or expiry.
 */
import { NODE_REGION_COUNT } from '../protocol/cache-node.protocol';
import { originalKeyOf } from '../protocol/variant-key';

/** Longest mark granted: the uploader's commit must fit in it, a dead uploader's ends with it. */
export const PENDING_MAX_MS = 30_000;

export interface PendingMark {
  key: string;
  region: number;
  id: string;
  remainingMs: number;
}

interface KeyMarks {
  region: number;
  /** mark id → expiry (ms on this node's clock). */
  marks: Map<string, number>;
}

export class PendingKeys {
  private readonly keys = new Map<string, KeyMarks>();
  /** Marks on every key of a region (delete_all): region → id → expiry. */
  private readonly regions = Array.from(
    { length: NODE_REGION_COUNT },
    () => new Map<string, number>(),
  );
  private regionMarks = 0;

  constructor(private readonly now: () => number) {}

  /** Keys with a mark (live or not yet swept). */
  get size(): number {
    return this.keys.size;
  }

  /** Marks `key` for `ms` (capped) under `id`; renews a mark of the same id. Returns the grant. */
  mark(key: string, region: number, id: string, ms: number): number {
    const granted = grant(ms);
    const now = this.now();
    this.sweepSome(now);
    let held = this.keys.get(key);
    if (!held || held.region !== region) {
      held = { region, marks: new Map() };
      this.keys.set(key, held);
    }
    held.marks.set(id, Math.max(held.marks.get(id) ?? 0, now + granted));
    return granted;
  }

  /** Marks every key of `regions` (delete_all, clear data). */
  markRegions(regions: Iterable<number>, id: string, ms: number): number {
    const granted = grant(ms);
    const until = this.now() + granted;
    for (const region of regions) {
      const marks = this.regions[region];
      if (!marks.has(id)) this.regionMarks++;
      marks.set(id, Math.max(marks.get(id) ?? 0, until));
    }
    return granted;
  }

  release(key: string, id: string): void {
    const held = this.keys.get(key);
    if (!held) return;
    held.marks.delete(id);
    if (held.marks.size === 0) this.keys.delete(key);
  }

  releaseRegions(id: string): void {
    for (const marks of this.regions) if (marks.delete(id)) this.regionMarks--;
  }

  /** The hot path: one Map lookup when nothing is pending. */
  isPending(key: string, region: number): boolean {
    if (this.regionMarks > 0 && this.regionPending(region)) return true;
    if (this.keys.size === 0) return false;
    // Marks are on originals; a variant is pending with its original (variant-key.ts).
    const original = originalKeyOf(key);
    const held = this.keys.get(original);
    if (!held) return false;
    const now = this.now();
    for (const [id, until] of held.marks) if (until <= now) held.marks.delete(id);
    if (held.marks.size > 0) return true;
    this.keys.delete(original);
    return false;
  }

  /** Live key marks of these regions, for a transfer. */
  ofRegions(regions: ReadonlySet<number>): PendingMark[] {
    const now = this.now();
    const out: PendingMark[] = [];
    for (const [key, held] of this.keys) {
      if (!regions.has(held.region)) continue;
      for (const [id, until] of held.marks)
        if (until > now)
          out.push({ key, region: held.region, id, remainingMs: Math.ceil(until - now) });
    }
    return out;
  }

  private regionPending(region: number): boolean {
    const marks = this.regions[region];
    const now = this.now();
    for (const [id, until] of marks) {
      if (until > now) return true;
      marks.delete(id);
      this.regionMarks--;
    }
    return false;
  }

  /** A few records from the oldest on, so that marks nobody asks about again still go. */
  private sweepSome(now: number): void {
    let budget = 4;
    for (const [key, held] of this.keys) {
      if (budget-- <= 0) return;
      for (const [id, until] of held.marks) if (until <= now) held.marks.delete(id);
      if (held.marks.size === 0) this.keys.delete(key);
    }
  }
}

function grant(ms: number): number {
  return Math.min(Math.max(1, Math.floor(ms)), PENDING_MAX_MS);
}
