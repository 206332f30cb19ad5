import { Leadership } from './leadership.port';
import { LeaseRecord, LeaseStore } from './lease-store';

/*
 * The leader lease: which app instance runs the singleton jobs (auto-scaler tick, pool-total
 * metrics, EC2 reconciler, sweepers).
 *
 * Invariant: at any instant at most one instance believes it leads, and a write a deposed leader
 * still makes to the pool state is refused (fencing).
 *
 * The row (leader_lease): holder, epoch (the fencing token, +1 per new holder), version (+1 per
 * renewal). No step compares the clocks of two hosts: each instance measures time only on its own
 * monotonic clock, and what crosses hosts is "the version changed", which only the database says.
 *
 * Steps, every renewMs on every eligible instance:
 *  1. Leader: note the local time s, then renew (version + 1 where holder = me and epoch = mine).
 *     On success it leads until s + leaseMs × (1 − DRIFT): the renewal was written after s.
 *     A refused renewal means someone took over: it stops leading at once. An error (database
 *     down) changes nothing: its lease runs out by itself at the time already computed.
 *  2. Contender: read the row; when (epoch, version) differs from what it saw last, note the local
 *     time t after the read returned. The holder's renewal that wrote this version started before
 *     t, so the holder leads until before t + leaseMs. When the row is still the same at
 *     t + leaseMs, take over with a compare-and-set on (epoch, version) → epoch + 1. Two
 *     contenders racing: the database lets one update through, the other sees 0 rows.
 *  3. No row yet: insert one at epoch 1 (primary key: one insert wins).
 *  4. Shutdown: stop leading, then set holder null (epoch kept), so a contender takes over on its
 *     next step instead of waiting out the lease.
 *
 * Crash (kill -9) at each step:
 *  - Leader between s and the renewal's commit, or any time after: the row stops changing; a
 *    contender takes over between leaseMs and leaseMs + renewMs after the last renewal.
 *  - Contender before its takeover commits: nothing changed. After: it holds the lease and dies
 *    like any leader.
 *  - A leader frozen (SIGSTOP, GC) past its lease: on waking, isLeader() is false before it asks
 *    the database anything (its lease time is local), and a job that had already started and
 *    then writes the pool state carries its fencing token: the save checks the token against
 *    the lease row in the same statement and is refused (TypeOrmPoolStateStore).
 *
 * DRIFT covers clock rates differing between hosts (not offsets, which never matter); the
 * leader's term is shorter than what contenders wait for by that share.
 */
const DRIFT = 0.1;

export interface LeaderLeaseOptions {
  /** Lease row name. */
  name: string;
  /** Unique per process: host, pid and a random part. */
  holder: string;
  leaseMs: number;
  /** Whether this instance may lead (autoscaler.enabled). An ineligible instance never writes. */
  eligible: boolean;
  /** Local monotonic milliseconds. */
  now: () => number;
}

export class LeaderLease implements Leadership {
  private term: { epoch: number; until: number } | null = null;
  private seen: { epoch: number; version: number; at: number } | null = null;

  constructor(
    private readonly store: LeaseStore,
    private readonly options: LeaderLeaseOptions,
  ) {}

  isLeader(): boolean {
    return this.term !== null && this.options.now() < this.term.until;
  }

  fencingToken(): number | null {
    return this.isLeader() ? this.term!.epoch : null;
  }

  /** Who holds the lease as this instance last saw it, for the dashboard and /metrics. */
  epochSeen(): number {
    return this.term?.epoch ?? this.seen?.epoch ?? 0;
  }

  /** One step of the protocol (see above). The caller never runs two at once. Rejects on DB errors. */
  async step(): Promise<void> {
    const { store } = this;
    const { name, holder, leaseMs, eligible, now } = this.options;
    if (!eligible) return;
    const started = now();
    if (this.term) {
      if (await store.renew(name, holder, this.term.epoch)) {
        this.term.until = started + leaseMs * (1 - DRIFT);
      } else {
        this.term = null; // deposed: someone waited out our lease and took over
      }
      return;
    }
    const row = await store.read(name);
    const readAt = now();
    if (!row) {
      if (await store.create(name, holder)) this.lead(1, started);
      return;
    }
    if (this.changed(row)) {
      this.seen = { epoch: row.epoch, version: row.version, at: readAt };
      if (row.holder !== null) return;
    }
    // Let go by its holder (shutdown), or unchanged for a whole lease: the holder is gone.
    if (row.holder === null || readAt - this.seen!.at >= leaseMs) {
      if (await store.takeOver(name, holder, row)) this.lead(row.epoch + 1, started);
    }
  }

  /** Stops leading now, then lets others take over without waiting (best effort). */
  async release(): Promise<void> {
    const term = this.term;
    this.term = null;
    if (term) await this.store.release(this.options.name, this.options.holder, term.epoch);
  }

  private changed(row: LeaseRecord): boolean {
    return !this.seen || this.seen.epoch !== row.epoch || this.seen.version !== row.version;
  }

  private lead(epoch: number, started: number): void {
    this.term = { epoch, until: started + this.options.leaseMs * (1 - DRIFT) };
    this.seen = null;
  }
}
