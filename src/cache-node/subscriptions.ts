/*
 * The node's side of near-cache subscriptions (protocol: src/protocol/near-cache.protocol.ts; the
 * front-end's side and the whole argument: src/near-cache/near-cache.service.ts).
 *
 * Invariant: while a front-end may still serve a near copy of a key in region r, every
 * invalidation of that key this node applies is answered only after that front-end dropped the
 * copy, or after the lease under which it held it ran out.
 *
 * Steps:
 * 1. A subscriber asks for a lease on some regions; the node grants those it owns now
 *    (synchronously, so a grant and an ownership change never interleave), for the node's own
 *    lease (`leaseMs`, its --near-lease-ms: the node decides, not the front-end, so front-ends
 *    with other settings or none stay within what the node waits out), says how long in the
 *    answer, and will expire the subscriber at receipt + leaseMs unless it renews. The front-end
 *    counts the granted lease from the moment it *sent* the request, which is earlier, so its
 *    lease always ends before the node's.
 * 2. An invalidation of (key, r), a region given up, or a clear is pushed to every subscriber of
 *    the regions concerned, with a sequence number; the caller's answer (DELETE, PUT ownership,
 *    DELETE /v1/keys) waits until each of them acknowledged that number or expired.
 * 3. A region this node gains may still be held, as near copies, by front-ends that subscribed at
 *    its previous owner if that owner could not tell them it gave it up (it died, or is cut off
 *    from the manager): invalidations of a gained region also wait until the manager's `holdMs`
 *    after the gain: the lease its previous owner grants, as the manager heard it from that node
 *    (src/pool/routing/node-leases.ts), whatever the manager's own near cache; a lease also bounds
 *    how long a front-end trusts an epoch it has not confirmed (see the service). A node that
 *    starts holds every region for its own lease the same way (server.ts): it may be a restart,
 *    and front-ends that missed the old connection's close serve under the old grants, which
 *    were its own setting (lowering --near-lease-ms: restart it after the old lease, not before).
 *
 * Crash / partition at each step:
 * - Subscriber unreachable or stalled: no ack comes; the node waits until the lease runs out
 *   (the front-end stopped serving before that), then forgets the subscriber and closes its
 *   connection. A renewal that arrives after expiry is refused (the connection is closed), so a
 *   front-end never resumes a subscription that missed a push.
 * - Connection closed: the front-end drops its copies at once; the node cannot know that, so it
 *   keeps the subscriber (for waiting only) until its lease ends.
 * - Node crash: the front-end sees the connection close and drops the node's regions; the regions'
 *   next owner holds invalidations for holdMs (step 3).
 * Memory: one record per connection, one pending record per push in flight (bounded by the lease).
 */
import {
  NEAR_DEFAULT_LEASE_MS,
  NEAR_MAX_LEASE_MS,
  type NearNodeStats,
  type NearReleaseMessage,
  type NearReport,
  type NearToFrontEnd,
} from '../protocol/near-cache.protocol';
import { NODE_REGION_COUNT } from '../protocol/cache-node.protocol';
import { testMutant } from '../protocol/test-mutants';

/** Time behind a port: real timers in the node, simulated ones in tests. */
export interface LeaseTimers {
  now(): number;
  after(ms: number, fn: () => void): { cancel(): void };
}

export const realTimers: LeaseTimers = {
  now: () => performance.now(),
  after: (ms, fn) => {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
};

/** The connection a subscriber is reached through. */
export interface SubscriberLink {
  send(message: NearToFrontEnd): void;
  close(): void;
}

export class Subscriber {
  readonly regions = new Set<number>();
  /** The front-end's own name (NEAR_ID_PATTERN): left out of the push of its own invalidations. */
  id: string | undefined;
  /** 0 until the first lease. */
  expiresAt = 0;
  open = true;
  report: NearReport | undefined;
  timer: { cancel(): void } | undefined;

  constructor(readonly link: SubscriberLink) {}
}

interface Pending {
  waiting: Set<Subscriber>;
  holding: boolean;
  hold: { cancel(): void } | undefined;
  done: () => void;
}

export class SubscriptionTable {
  private readonly subscribers = new Set<Subscriber>();
  private readonly pending = new Map<number, Pending>();
  private readonly holdUntil = new Array<number>(NODE_REGION_COUNT).fill(0);
  private seq = 0;
  private pushes = 0;
  private expiredWaits = 0;

  /** `leaseMs`: the lease this node grants (its setting, within NEAR_MIN/MAX_LEASE_MS). */
  constructor(
    private readonly timers: LeaseTimers = realTimers,
    readonly leaseMs: number = NEAR_DEFAULT_LEASE_MS,
  ) {}

  get size(): number {
    return this.subscribers.size;
  }

  attach(link: SubscriberLink): Subscriber {
    const subscriber = new Subscriber(link);
    this.subscribers.add(subscriber);
    return subscriber;
  }

  /**
   * Grants (renews) a lease of this node's `leaseMs` on the requested regions this node owns;
   * returns them, or undefined when the subscriber's lease has already run out (it must start
   * over).
   */
  lease(
    subscriber: Subscriber,
    regions: readonly number[],
    owns: (region: number) => boolean,
  ): number[] | undefined {
    const now = this.timers.now();
    if (!this.subscribers.has(subscriber)) return undefined;
    if (subscriber.expiresAt !== 0 && now >= subscriber.expiresAt) {
      this.expire(subscriber);
      return undefined;
    }
    const granted = [...new Set(regions)].filter(owns).sort((a, b) => a - b);
    subscriber.regions.clear();
    for (const region of granted) subscriber.regions.add(region);
    subscriber.expiresAt = now + this.leaseMs;
    this.armExpiry(subscriber);
    return granted;
  }

  report(subscriber: Subscriber, report: NearReport): void {
    subscriber.report = report;
  }

  /** The front-end said it stopped serving (shutdown): nothing to wait for any more. */
  bye(subscriber: Subscriber): void {
    this.expire(subscriber);
  }

  /** The connection closed: keep the subscriber for waits until its lease ends. */
  detach(subscriber: Subscriber): void {
    subscriber.open = false;
    if (subscriber.expiresAt === 0 || this.timers.now() >= subscriber.expiresAt)
      this.expire(subscriber);
  }

  ack(subscriber: Subscriber, seq: number): void {
    const pending = this.pending.get(seq);
    if (!pending || !pending.waiting.delete(subscriber)) return;
    this.settle(seq, pending);
  }

  /**
   * An invalidation was applied: `done` runs once the subscribers of `region` dropped the key.
   * The uploader's own subscriber (`uploader`, its id) is left out: it drops its copy itself once
   * this invalidation is answered, before its upload is acknowledged, which is what the push
   * would have done (src/near-cache/near-cache.service.ts).
   */
  invalidated(
    key: string,
    region: number,
    version: number,
    done: () => void,
    uploader?: string,
  ): void {
    if (testMutant('skip-invalidation-push')) return done();
    this.push([region], (seq) => ({ t: 'inv', seq, key, region, version }), done, uploader);
  }

  /**
   * A key (or, with `key` undefined, every key of `regions`) went pending under mark `id` for `ms`
   * (pending-keys.ts): `done` runs once every other subscriber of the regions dropped it and stopped
   * admitting it, as for an invalidation.
   */
  markedPending(
    mark: { id: string; ms: number; key?: string },
    regions: readonly number[],
    done: () => void,
    uploader?: string,
  ): void {
    const { id, ms, key } = mark;
    if (key !== undefined && testMutant('skip-invalidation-push')) return done();
    const build = (seq: number): NearToFrontEnd =>
      key === undefined
        ? { t: 'pend', seq, id, ms, regions: [...regions] }
        : { t: 'pend', seq, id, ms, key, region: regions[0] };
    this.push(regions, build, done, uploader);
  }

  /**
   * Mark `id` was released: told to the subscribers, not waited for (pending-keys.ts step 3); the
   * uploader (`uploader`, its id) released its own mark itself.
   */
  released(message: NearReleaseMessage, regions: readonly number[], uploader?: string): void {
    for (const subscriber of this.subscribers) {
      if (uploader !== undefined && subscriber.id === uploader) continue;
      if (subscriber.open && regions.some((r) => subscriber.regions.has(r)))
        subscriber.link.send(message);
    }
  }

  /**
   * The node gave up `regions` (they are no longer granted) or cleared them (they stay granted):
   * `done` runs once every subscriber of them dropped its copies.
   */
  dropped(regions: readonly number[], givenUp: boolean, done: () => void): void {
    this.push(regions, (seq) => ({ t: 'drop', seq, regions: [...regions] }), done);
    if (givenUp)
      for (const subscriber of this.subscribers)
        for (const region of regions) subscriber.regions.delete(region);
  }

  /** Regions just gained: their invalidations wait until `ms` from now (step 3). */
  holdGained(regions: Iterable<number>, ms: number): void {
    if (ms <= 0) return;
    const until = this.timers.now() + Math.min(ms, NEAR_MAX_LEASE_MS);
    for (const region of regions) this.holdUntil[region] = Math.max(this.holdUntil[region], until);
  }

  stats(): NearNodeStats {
    const reports: NearReport[] = [];
    for (const subscriber of this.subscribers)
      if (subscriber.open && subscriber.report) reports.push(subscriber.report);
    return {
      subscribers: this.subscribers.size,
      pushes: this.pushes,
      expiredWaits: this.expiredWaits,
      reports,
    };
  }

  /** Node shutdown: close every connection and stop the timers (waits are answered by close). */
  closeAll(): void {
    for (const subscriber of [...this.subscribers]) {
      subscriber.timer?.cancel();
      this.subscribers.delete(subscriber);
      subscriber.link.close();
    }
    for (const pending of this.pending.values()) pending.hold?.cancel();
    this.pending.clear();
  }

  private push(
    regions: readonly number[],
    build: (seq: number) => NearToFrontEnd,
    done: () => void,
    uploader?: string,
  ): void {
    const now = this.timers.now();
    const waiting = new Set<Subscriber>();
    for (const subscriber of this.subscribers) {
      if (uploader !== undefined && subscriber.id === uploader) continue;
      if (regions.some((r) => subscriber.regions.has(r))) waiting.add(subscriber);
    }
    const holdUntil = Math.max(0, ...regions.map((r) => this.holdUntil[r]));
    if (waiting.size === 0 && holdUntil <= now) return done();
    const seq = ++this.seq;
    this.pushes++;
    const pending: Pending = { waiting, holding: holdUntil > now, hold: undefined, done };
    this.pending.set(seq, pending);
    if (pending.holding)
      pending.hold = this.timers.after(holdUntil - now, () => {
        pending.holding = false;
        this.settle(seq, pending);
      });
    const message = build(seq);
    for (const subscriber of waiting) if (subscriber.open) subscriber.link.send(message);
    if (testMutant('skip-lease-wait')) {
      pending.hold?.cancel();
      this.pending.delete(seq);
      done();
    }
  }

  private settle(seq: number, pending: Pending): void {
    if (pending.waiting.size > 0 || pending.holding || !this.pending.has(seq)) return;
    this.pending.delete(seq);
    pending.done();
  }

  private armExpiry(subscriber: Subscriber): void {
    subscriber.timer?.cancel();
    const wait = subscriber.expiresAt - this.timers.now();
    subscriber.timer = this.timers.after(Math.max(0, wait), () => {
      // Renewed meanwhile: the timer of that renewal replaced this one, but be exact anyway.
      if (this.timers.now() < subscriber.expiresAt) return this.armExpiry(subscriber);
      this.expire(subscriber);
    });
  }

  private expire(subscriber: Subscriber): void {
    if (!this.subscribers.delete(subscriber)) return;
    subscriber.timer?.cancel();
    subscriber.regions.clear();
    for (const [seq, pending] of this.pending) {
      if (pending.waiting.delete(subscriber)) {
        this.expiredWaits++;
        this.settle(seq, pending);
      }
    }
    subscriber.link.close();
  }
}
