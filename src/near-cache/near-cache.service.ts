/*
 * The near cache (L1): hot images answered from this front-end's own memory, exactly as fresh as
 * the pool. Wire protocol: src/protocol/near-cache.protocol.ts; the node's side:
 * src/cache-node/subscriptions.ts.
 *
 * Invariant: no read that starts after an upload was acknowledged is answered from a near copy
 * older than that upload, on any front-end.
 *
 * The pieces:
 * A. Subscriptions. For each node of its assignment the front-end holds one connection and a lease
 *    on the regions that node owns (granted by the node only for regions it owns at that moment,
 *    for as long as the node's setting says: the front-end takes the grant, it does not choose).
 *    Its lease ends before the node's (lease-clock.ts). Region r is *served* only while
 *    regionSub[r] is a subscription whose lease is running.
 * B. Pushed invalidations. The node answers an invalidation (an upload's DELETE), an ownership
 *    change that takes regions away, or a clear only after every subscriber of the regions
 *    concerned acknowledged it, or its lease ran out. The front-end applies a push before it acks.
 * C. Epoch confirmation. Every (shortest grant)/3 the front-end reads the stored epoch; it serves
 *    a region's near copies only until leaseEnd(sent time of the last read that found its own
 *    epoch current, the grant of the region's node). So any assignment saved at time T is obeyed,
 *    or the near cache is silent, from T + (that node's lease) on; waits elsewhere take the
 *    longest lease the pool's nodes grant (src/pool/routing/node-leases.ts), whatever this
 *    instance's settings, near cache on or off.
 * D. Generations. regionGen[r] moves on whenever region r stops being served under the same
 *    subscription (dropped, revoked, the connection lost, the owner changed at an epoch): every
 *    copy admitted under the old generation is dead at once (checked on each hit, swept later).
 *    regionInvals[r] moves on with every invalidation of a key of r.
 * E. Fills. A read takes a ticket (region, generation, invalidation count) *before* it asks the
 *    node, and only if the region is served; its result is admitted only if neither number moved.
 * F. Pending marks (linearizable reads: src/frontend/write-fence.ts). An upload's mark is pushed
 *    before its commit like an invalidation (it moves the count); while it lasts no copy of the key
 *    is admitted, and at any time only images the owner node vouched for (a hit, or a miss with a
 *    fill lease) are offered, so an image read from storage while the node held the key pending,
 *    which may be older than a commit a moment away, never enters.
 *
 * Why each race is safe:
 * - Fill racing an invalidation: the fill's data was read after the ticket, and the ticket was
 *   taken while subscribed, so the node registered us before it answered that read. An
 *   invalidation applied at the node after the read is pushed to us: if it lands before the
 *   admission, the count moved and the copy is refused; if after, it deletes the copy, before the
 *   node (and so the upload) answers. One applied before the read is already in what we read.
 * - Subscription established after an invalidation: such an invalidation was applied at the node
 *   before it granted the region; our copies of that region from an earlier subscription died
 *   with its generation, and new ones are read after the grant.
 * - Lease expiry vs node waiting: we stop serving at our lease end, which is before the node's;
 *   the node answers an unacknowledged push only after its own lease end. A renewal the node
 *   receives after its lease end closes the connection (generation moves), never resumes it.
 * - Epoch change: adopting an assignment kills every region whose owner changed (or all of them
 *   if epochs were skipped; a quarantined owner counts as no owner, for it may have missed an
 *   invalidation another instance could not deliver). An owner that gives a region up pushes a
 *   drop and waits (B); one that cannot (dead, cut off from the manager while still reachable by
 *   us) is covered by C: the new owner holds invalidations of a gained region for one lease after
 *   gaining it (subscriptions.ts step 3), by which time we have seen the new epoch or stopped
 *   serving.
 * - An upload whose owner could not be told: that owner is quarantined (a new assignment saved),
 *   so its regions die here once adopted; unless every instance confirmed it adopted it, the
 *   upload waits the longest lease before it is acknowledged (src/pool/pool-cache.service.ts), so
 *   by C no front-end still serves under the old assignment.
 * - The front-end's own upload drops its own copy first (dropLocal). It names itself to the node
 *   (DELETE ...&near=id), which leaves it out of that push (no wait for a turn of its own busy
 *   event loop, no push to parse and acknowledge); instead it drops the copy again when the node
 *   has answered, before the upload is acknowledged: the same effect as the push arriving then.
 *   A fill whose ticket predates that drop is refused; one taken after it reads the node after
 *   the node applied the invalidation (or reads storage after the commit). A DELETE that fails
 *   quarantines the node, whose regions then stop being served.
 * - Crash of the front-end: its memory is gone; nodes wait out its leases. Crash of a node: the
 *   connection closes and its regions die here at once; partition: the lease runs out (A, B).
 * Consequence: when the database cannot be read, the near cache goes quiet within a lease (hits
 * still come from the pool). Nothing here depends on other instances' settings: leases and every
 * wait derived from them are the nodes'.
 */
import {
  Inject,
  Injectable,
  Logger,
  OnApplicationShutdown,
  OnModuleInit,
  Optional,
} from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { withDeadline } from '../common/with-deadline';
import { testMutant } from '../protocol/test-mutants';
import { AppConfig } from '../config/app-config';
import type { StoredImage } from '../image/stored-image';
import { partition, REGION_COUNT } from '../protocol/hash-ring';
import { PoolRouter } from '../pool/routing/pool-router.service';
import { POOL_STATE_STORE, PoolState, PoolStateStore } from '../pool/routing/pool-state';
import type { NearReport } from '../protocol/near-cache.protocol';
import { Admission } from './admission';
import { nearCapacityMb } from './near-capacity';
import { leaseEnd, monotonicNow } from './lease-clock';
import { prepareEntry } from './near-entry';
import { NearEntry, NearStore } from './near-store';
import { NearPending } from './near-pending';
import {
  type NearMark,
  type NearRelease,
  NodeSubscription,
  SubscriptionListener,
} from './node-subscription';

/** Taken before a read asks the pool; the read's result is admitted only if it still holds. */
export interface NearTicket {
  key: string;
  region: number;
  generation: number;
  invals: number;
}

export interface NearStats extends NearReport {
  /** The longest lease granted to this front-end now (its nodes' setting); 0 if none. */
  leaseMs: number;
  subscriptions: number;
}

export const NEAR_NOW = Symbol('NearNow');

@Injectable()
export class NearCacheService implements OnModuleInit, OnApplicationShutdown, SubscriptionListener {
  private readonly logger = new Logger(NearCacheService.name);
  readonly enabled: boolean;
  /** Asked of a node before it has granted anything (connect timeout, first cadence). */
  private readonly configuredLeaseMs: number;
  private readonly store: NearStore;
  private readonly admission: Admission;
  private readonly pendingKeys: NearPending;
  private readonly subscriptions = new Map<string, NodeSubscription>();
  private readonly regionSub: Array<NodeSubscription | null> = new Array(REGION_COUNT).fill(null);
  private readonly regionGen = new Array<number>(REGION_COUNT).fill(0);
  private readonly regionInvals = new Array<number>(REGION_COUNT).fill(0);
  private seen: PoolState | null = null;
  /** Sent time of the last epoch read that found this front-end's epoch current (step C). */
  private confirmedAt = -Infinity;
  private confirming = false;
  private readonly hitBatches = new Map<string, Map<string, number>>();
  private reads = 0;
  private stopped = false;
  private hits = 0;
  private timers: NodeJS.Timeout[] = [];
  private ticker: NodeJS.Timeout | null = null;
  private readonly name = `${hostname()}:${process.pid}`;
  /** Our subscriber id at every node; undefined when off (see "own uploads" above). */
  readonly id: string | undefined;
  private readonly now: () => number;

  constructor(
    private readonly config: AppConfig,
    private readonly router: PoolRouter,
    @Inject(POOL_STATE_STORE) private readonly states: PoolStateStore,
    @Optional() @Inject(NEAR_NOW) now?: () => number,
  ) {
    this.now = now ?? monotonicNow;
    const { leaseMs, admitWindowMs } = config.nearCache;
    const capacityMb = nearCapacityMb(config.nearCache.capacityMb);
    this.enabled = capacityMb > 0;
    this.id = this.enabled ? randomBytes(12).toString('hex') : undefined;
    this.configuredLeaseMs = leaseMs;
    this.store = new NearStore(capacityMb * 1024 * 1024);
    this.admission = new Admission(admitWindowMs, 100_000, this.now);
    this.pendingKeys = new NearPending(this.now);
  }

  onModuleInit(): void {
    if (!this.enabled) return;
    const every = (ms: number, work: () => void): void => {
      const timer = setInterval(work, ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(this.config.nearCache.reportIntervalMs, () => this.reportHits());
    this.tick();
  }

  /** A third of the shortest lease granted (before any grant, of this setting): steps A and C. */
  private cadenceMs(): number {
    const grants = [...this.subscriptions.values()].map((s) => s.grantMs).filter((ms) => ms > 0);
    const shortest = grants.length > 0 ? Math.min(...grants) : this.configuredLeaseMs;
    return Math.max(50, Math.floor(shortest / 3));
  }

  /** The HTTP server is closed by now: stop serving, then let the nodes forget us at once. */
  onApplicationShutdown(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    if (this.ticker) clearTimeout(this.ticker);
    this.ticker = null;
    this.stopped = true;
    this.confirmedAt = -Infinity;
    this.store.clear();
    for (const subscription of [...this.subscriptions.values()]) subscription.close(true);
    this.subscriptions.clear();
  }

  /** The hit path: a copy that may be served now, or undefined. */
  lookup(key: string): NearEntry | undefined {
    if (!this.enabled) return undefined;
    if (this.router.current !== this.seen) this.reconcile();
    const entry = this.store.peek(key);
    if (!entry || !this.servable(entry.region, entry.generation)) return undefined;
    entry.visited = true;
    // A read is counted once: here when it hits, in ticket() when it goes to the pool.
    this.reads++;
    this.hits++;
    const owner = this.regionSub[entry.region]!.nodeId;
    let batch = this.hitBatches.get(owner);
    if (!batch) this.hitBatches.set(owner, (batch = new Map()));
    batch.set(key, (batch.get(key) ?? 0) + 1);
    return entry;
  }

  /** Before a read asks the pool (step E); undefined when the region is not served. */
  ticket(key: string): NearTicket | undefined {
    if (!this.enabled) return undefined;
    this.reads++;
    if (this.router.current !== this.seen) this.reconcile();
    const region = partition(key);
    const generation = this.regionGen[region];
    if (!this.servable(region, generation)) return undefined;
    return { key, region, generation, invals: this.regionInvals[region] };
  }

  /**
   * After the read: keeps the image if nothing moved since the ticket, no upload of the key is
   * pending, and it is read again. Only images the owner node vouched for are offered
   * (PoolCacheService.readForNear).
   */
  offer(ticket: NearTicket, image: StoredImage): void {
    if (this.router.current !== this.seen) this.reconcile();
    const { key, region, generation, invals } = ticket;
    if (this.regionInvals[region] !== invals || !this.servable(region, generation)) return;
    if (this.pendingKeys.blocks(key)) return;
    if (!this.admission.admit(key)) return;
    this.store.set(prepareEntry(image, region, generation));
  }

  /** This front-end's own upload committed: its copy goes before the node is told. */
  dropLocal(key: string): void {
    if (!this.enabled) return;
    const region = partition(key);
    this.store.delete(key);
    this.store.deleteVariants(key, Infinity);
    this.regionInvals[region]++;
  }

  /**
   * This front-end's own upload (or delete_all, key undefined) is about to commit: no copy, no
   * admission until releaseLocal or `ms` (the nodes leave us out of their push of our own mark).
   */
  markLocal(key: string | undefined, id: string, ms: number): void {
    if (!this.enabled) return;
    this.pendingKeys.add(key, id, ms);
    if (key === undefined) this.clearLocal();
    else this.dropLocal(key);
  }

  releaseLocal(key: string | undefined, id: string): void {
    if (this.enabled) this.pendingKeys.release(key, id);
  }

  /** The assignment routed by before an invalidation, to compare after it (afterInvalidation). */
  stateBefore(): PoolState | null {
    return this.router.current;
  }

  /**
   * The assignment changed while an upload invalidated (its owner may have been removed untold):
   * wait the longest lease the old assignment's nodes grant (the near copies that may be stale
   * were granted by them; this instance routed to them, so it has heard their leases), so every
   * front-end has seen the change or stopped serving (step C). Also when this instance's own near
   * cache is off: others' may be on.
   */
  async afterInvalidation(before: PoolState | null): Promise<void> {
    if (this.router.current === before) return;
    if (testMutant('skip-lease-wait')) return;
    const ms = await this.router.longestLease(before);
    await new Promise((resolve) => setTimeout(resolve, ms));
  }

  /** Everything goes (clear cache / delete all): nodes push drops as well. */
  clearLocal(): void {
    if (!this.enabled) return;
    this.store.clear();
    for (let region = 0; region < REGION_COUNT; region++) this.regionInvals[region]++;
  }

  stats(): NearStats {
    return {
      name: this.name,
      items: this.store.size,
      bytes: this.store.bytesUsed,
      capacityBytes: this.store.capacityBytes,
      hits: this.hits,
      reads: this.reads,
      leaseMs: Math.max(0, ...[...this.subscriptions.values()].map((s) => s.grantMs)),
      subscriptions: [...this.subscriptions.values()].filter((s) => s.isOpen).length,
    };
  }

  // --- SubscriptionListener: each runs before the node is acknowledged.

  granted(subscription: NodeSubscription, regions: number[], revoked: number[]): void {
    if (this.subscriptions.get(subscription.nodeId) !== subscription) return;
    this.router.leases.record(subscription.nodeId, subscription.grantMs);
    if (this.router.current !== this.seen) this.reconcile();
    for (const region of revoked) if (this.regionSub[region] === subscription) this.kill(region);
    for (const region of regions) {
      const owner = this.seen ? servingOwner(this.seen, region) : null;
      if (owner === subscription.nodeId && this.regionSub[region] !== subscription) {
        this.kill(region);
        this.regionSub[region] = subscription;
      }
    }
  }

  invalidate(_subscription: NodeSubscription, key: string, region: number, version: number): void {
    const entry = this.store.peek(key);
    if (entry && entry.version < version) this.store.delete(key);
    // Variants go with their original, in the same step (src/protocol/variant-key.ts).
    this.store.deleteVariants(key, version);
    this.regionInvals[region]++;
  }

  pending(_subscription: NodeSubscription, mark: NearMark): void {
    // A region mark is a delete_all, which the node sends for every region: all keys.
    this.markLocal(mark.key, mark.id, mark.ms);
  }

  released(subscription: NodeSubscription, mark: NearRelease): void {
    const { key, region, version, id } = mark;
    if (key !== undefined && region !== undefined && version !== undefined)
      this.invalidate(subscription, key, region, version);
    this.releaseLocal(key, id);
  }

  drop(subscription: NodeSubscription, regions: number[]): void {
    for (const region of regions) {
      if (this.regionSub[region] === subscription) this.kill(region);
      else this.regionInvals[region]++;
    }
    // Regions that were only cleared are granted again on this renewal.
    subscription.renew();
  }

  lost(subscription: NodeSubscription): void {
    for (let region = 0; region < REGION_COUNT; region++)
      if (this.regionSub[region] === subscription) this.kill(region);
    if (this.subscriptions.get(subscription.nodeId) === subscription)
      this.subscriptions.delete(subscription.nodeId);
  }

  // --- internals

  private servable(region: number, generation: number): boolean {
    const now = this.now();
    const subscription = this.regionSub[region];
    return (
      generation === this.regionGen[region] &&
      subscription !== null &&
      now < subscription.validUntil &&
      now < leaseEnd(this.confirmedAt, subscription.grantMs)
    );
  }

  /** Region r's copies die and its fills in flight are refused (step D). */
  private kill(region: number): void {
    this.regionGen[region]++;
    this.regionInvals[region]++;
    this.regionSub[region] = null;
  }

  /** Adopts the router's assignment: kills regions that changed owner, (re)subscribes. */
  private reconcile(): void {
    const previous = this.seen;
    const next = this.router.current;
    this.seen = next;
    const skipped = !previous || !next || next.epoch !== previous.epoch + 1;
    for (let region = 0; region < REGION_COUNT; region++) {
      if (skipped || servingOwner(previous, region) !== servingOwner(next, region))
        this.kill(region);
    }
    this.subscribe();
  }

  /** One subscription per node of the assignment, asking for the regions it owns there. */
  private subscribe(): void {
    const next = this.seen;
    const nodes = new Map((next?.nodes ?? []).map((n) => [n.id, n]));
    for (const [id, subscription] of this.subscriptions) {
      if (nodes.get(id)?.url !== subscription.url) subscription.close();
    }
    for (const node of nodes.values()) {
      let subscription = this.subscriptions.get(node.id);
      if (!subscription) {
        subscription = new NodeSubscription(
          {
            nodeId: node.id,
            url: node.url,
            secret: this.config.security.nodeSecret || undefined,
            id: this.id,
            connectTimeoutMs: this.configuredLeaseMs,
            now: this.now,
          },
          this,
        );
        this.subscriptions.set(node.id, subscription);
        subscription.connect();
      }
      const owned = next!.owners.flatMap((_, region) =>
        servingOwner(next!, region) === node.id ? [region] : [],
      );
      subscription.want(owned, this.stats());
    }
  }

  /** Every lease/3: confirm the epoch (step C), renew leases, reconnect, sweep dead copies. */
  private tick(): void {
    if (this.stopped) return;
    this.ticker = setTimeout(() => this.tick(), this.cadenceMs());
    this.ticker.unref();
    if (this.router.current !== this.seen) this.reconcile();
    void this.confirmEpoch();
    const report = this.stats();
    const now = this.now();
    for (const subscription of [...this.subscriptions.values()]) {
      // Unanswered for a whole lease (e.g. a silent partition): start over on a new connection.
      if (subscription.stale(now)) subscription.close();
      else subscription.renew(report);
    }
    // A lost subscription was removed from the map: reconciling again makes a new one.
    if ((this.seen?.nodes ?? []).some((n) => !this.subscriptions.has(n.id))) this.subscribe();
    this.store.sweep((entry) => entry.generation !== this.regionGen[entry.region]);
    this.pendingKeys.sweep();
  }

  private async confirmEpoch(): Promise<void> {
    if (this.confirming) return;
    this.confirming = true;
    const sentAt = this.now();
    try {
      const stored = await withDeadline(this.states.epoch(), this.cadenceMs());
      if (stored > this.router.epoch) await this.router.reload();
      if (this.router.current !== this.seen) this.reconcile();
      if (this.seen && this.seen.epoch >= stored) {
        this.confirmedAt = Math.max(this.confirmedAt, sentAt);
      }
    } catch (err) {
      this.logger.warn(`near cache: could not confirm the epoch: ${(err as Error).message}`);
    } finally {
      this.confirming = false;
    }
  }

  private reportHits(): void {
    for (const [nodeId, batch] of this.hitBatches) {
      const subscription = this.subscriptions.get(nodeId);
      if (subscription?.isOpen) {
        const hits = [...batch];
        for (let i = 0; i < hits.length; i += 1000) subscription.sendHits(hits.slice(i, i + 1000));
      }
    }
    this.hitBatches.clear();
  }
}

/**
 * The node whose copies of `region` may be trusted: its owner, unless quarantined. A quarantined
 * node may have missed an invalidation (another instance could not reach it), so it pushed none
 * to us; its regions are served from nowhere near until it rejoins, emptied, at a new epoch.
 */
function servingOwner(state: PoolState, region: number): string | null {
  const owner = state.owners[region];
  return state.quarantined?.includes(owner) ? null : owner;
}
