import {
  Inject,
  Injectable,
  Logger,
  OnApplicationShutdown,
  OnModuleInit,
  Optional,
} from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { Leadership, LEADERSHIP } from '../../coordination/leadership.port';
import { Clock, CLOCK, systemClock } from '../clock.port';
import { FailureDetector } from './failure-detector';
import { MembershipService } from './membership.service';
import { POOL_STATE_STORE, PoolStateStore } from '../routing/pool-state';
import { PoolRouter } from '../routing/pool-router.service';
import { PeerNotifier } from '../client/peer-notifier';
import type { NodeHealth } from '../../protocol/cache-node.protocol';

export interface NodeHealthView {
  ok: boolean;
  checkedAt: string;
  error?: string;
  /** suspected (here), quarantined (everyone), or serving. */
  state: 'serving' | 'suspected' | 'quarantined';
  failures?: number;
}

/**
 * Probes every member each pool.healthIntervalMs (a suspect at once), feeds the failure detector
 * and acts on its verdicts through MembershipService (states argued in membership.service.ts):
 * suspect here, quarantine for everyone, rejoin, and, on the leader only, remove + replace and
 * heal the pool back to its target. The same timer polls the stored epoch, so an instance that
 * missed a notify still converges within one interval.
 */
@Injectable()
export class NodeFailureService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(NodeFailureService.name);
  private readonly detector: FailureDetector;
  private readonly checking = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private health = new Map<string, { ok: boolean; checkedAt: string; error?: string }>();
  /** The boot id each node answered last (NodeHealth.boot). */
  private readonly boots = new Map<string, string>();

  constructor(
    private readonly config: AppConfig,
    private readonly router: PoolRouter,
    private readonly membership: MembershipService,
    @Inject(POOL_STATE_STORE) private readonly store: PoolStateStore,
    @Optional() @Inject(LEADERSHIP) private readonly leadership?: Leadership | null,
    @Optional() @Inject(CLOCK) clock?: Clock | null,
    @Optional() private readonly peers?: PeerNotifier | null,
  ) {
    const time = clock ?? systemClock;
    this.detector = new FailureDetector(config.membership, () => time.now().getTime());
  }

  onModuleInit(): void {
    this.timer = setInterval(() => void this.checkAll(), this.config.pool.healthIntervalMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Health of each routed node as last seen, for the manager. */
  status(id: string): NodeHealthView | undefined {
    const seen = this.health.get(id);
    if (!seen) return undefined;
    const state = this.router.isQuarantined(id)
      ? 'quarantined'
      : this.router.serving(id)
        ? 'serving'
        : 'suspected';
    const failures = this.detector.state(id)?.failures;
    return { ...seen, state, ...(failures ? { failures } : {}) };
  }

  /** A request to the node failed: stop reading it here and probe it now. */
  suspect(id: string, why: string): void {
    if (!this.router.node(id)) return;
    if (this.router.serving(id)) this.logger.warn(`node ${id} suspected: ${why}`);
    this.router.suspect(id, true);
    void this.checkNode(id);
  }

  /**
   * The node could not be told something it must know (an invalidation): quarantine it, and wait
   * until the other app instances have adopted the quarantine too (they could read the old image
   * from it until then), before going on. Rejects if the quarantine could not be saved (the caller
   * must not acknowledge).
   */
  async quarantineNow(id: string, why: string): Promise<void> {
    this.router.suspect(id, true);
    await this.membership.quarantine(id, why, true);
    await this.everyInstanceRoutesBy();
  }

  /**
   * Resolves once every other app instance routes by this one's assignment (or a later one), or
   * can no longer serve near copies under an older one (PeerNotifier.caughtUp).
   */
  async everyInstanceRoutesBy(): Promise<void> {
    const state = this.router.current;
    if (state) await this.peers?.caughtUp(state);
  }

  /**
   * A node that may hold the old image could not be told, and no assignment says so (a region
   * answering "not owner" everywhere): adoption does not help, so wait until every near copy
   * granted before now is dead, the longest lease the pool's nodes grant.
   */
  async waitOutLeases(): Promise<void> {
    const ms = await this.router.longestLease(this.router.current);
    await new Promise((resolve) => setTimeout(resolve, ms));
  }

  async checkAll(): Promise<void> {
    try {
      if ((await this.store.epoch()) > this.router.epoch) await this.router.reload();
    } catch (err) {
      this.logger.warn(`could not read the stored epoch: ${(err as Error).message}`);
    }
    await Promise.all(this.router.nodes().map((node) => this.checkNode(node.id)));
    if (this.leads()) {
      await this.membership
        .heal(this.token())
        .catch((err: Error) => this.logger.warn(`pool not healed: ${err.message}`));
    }
  }

  private async checkNode(id: string): Promise<void> {
    const node = this.router.node(id);
    if (!node || this.checking.has(id)) return;
    this.checking.add(id);
    try {
      let failure: Error | null = null;
      let restarted = false;
      try {
        const health = await node.client.health();
        this.router.leases.record(id, health.nearLeaseMs);
        restarted = this.restarted(id, health);
      } catch (err) {
        failure = err as Error;
      }
      this.health.set(id, {
        ok: !failure,
        checkedAt: new Date().toISOString(),
        ...(failure ? { error: failure.message } : {}),
      });
      if (failure) await this.failed(id, failure);
      else await this.answered(id, restarted);
    } catch (err) {
      this.logger.error(`handling the health of ${id} failed: ${(err as Error).message}`);
    } finally {
      this.checking.delete(id);
    }
  }

  /**
   * The node's answer against the pool: a new boot id, or epoch 0 (never told anything since it
   * started) while the pool gives it regions, is a process that restarted and forgot everything.
   */
  private restarted(id: string, health: NodeHealth): boolean {
    const before = this.boots.get(id);
    if (typeof health.boot === 'string') this.boots.set(id, health.boot);
    if (before !== undefined && before !== health.boot) return true;
    const state = this.router.current;
    return health.epoch === 0 && !!state && state.owners.includes(id);
  }

  private async answered(id: string, restarted: boolean): Promise<void> {
    this.detector.success(id);
    // A restart is a rejoin: quarantined (everyone stops reading it) and, by the leader, emptied
    // and given its regions at a new epoch (MembershipService.restarted).
    if (restarted && !this.router.isQuarantined(id)) await this.membership.restarted(id);
    if (!this.router.isQuarantined(id)) {
      this.router.suspect(id, false);
      return;
    }
    // Rejoining changes what everyone reads: decided once, by the leader.
    if (this.leads()) await this.membership.rejoin(id);
  }

  private async failed(id: string, err: Error): Promise<void> {
    const verdict = this.detector.failure(id);
    this.router.suspect(id, true);
    const why = `${this.detector.state(id)?.failures} failed health checks: ${err.message}`;
    if (verdict === 'suspect') return;
    if (!this.router.isQuarantined(id)) await this.membership.quarantine(id, why);
    if (verdict === 'remove' && this.leads()) {
      this.detector.forget(id);
      await this.membership.replace(
        id,
        `no answer for ${this.config.membership.removeAfterMs} ms (${why})`,
        this.token(),
      );
    }
  }

  private leads(): boolean {
    return !this.leadership || this.leadership.isLeader();
  }

  private token(): number | undefined {
    return this.leadership?.fencingToken() ?? undefined;
  }
}
