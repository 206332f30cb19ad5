import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { MISS_RATE_SOURCE, MissRate, MissRateSource } from '../metrics/metrics.ports';
import { PoolMetrics } from '../metrics/prometheus/pool-metrics.service';
import { Clock, CLOCK, systemClock } from '../pool/clock.port';
import { Leadership, LEADERSHIP } from '../coordination/leadership.port';
import { MembershipChange, PoolEvents } from '../pool/pool-events';
import {
  AUTOSCALER_POLICY_STORE,
  AutoscalerPolicyStore,
  POOL_RESIZER,
  PoolResizer,
} from './autoscaler.ports';
import { decide, Decision, noAction } from './autoscaler-decision';
import { AUTOSCALER_SETTINGS, AutoscalerSettings } from './autoscaler-settings';
import { DecisionLog } from './decision-log';

/**
 * The course judges "the miss rate over the last minute". A scaler ticking faster than once a
 * minute (demos, tests) looks at the time since its previous tick instead, so one tick's evidence
 * is not counted again by the next.
 */
export const MISS_RATE_WINDOW_MS = 60_000;

/**
 * One tick: read the policy (so changes apply without a restart), read the last minute's miss rate,
 * decide, and resize if the decision says so. Ticks never overlap: while one waits on a slow resize
 * or metrics read, the next is recorded as skipped rather than started.
 */
@Injectable()
export class AutoscalerService {
  private readonly logger = new Logger('Autoscaler');
  private readonly decisions = new DecisionLog(100);
  private running = false;
  /** End of this scaler's last resize attempt: the cooldown counts from there. */
  private lastResizeAt: Date | null = null;
  private readonly clock: Clock;

  constructor(
    @Inject(POOL_RESIZER) private readonly resizer: PoolResizer,
    @Inject(MISS_RATE_SOURCE) private readonly missRates: MissRateSource,
    @Inject(AUTOSCALER_POLICY_STORE) private readonly policies: AutoscalerPolicyStore,
    private readonly metrics: PoolMetrics,
    @Inject(AUTOSCALER_SETTINGS) private readonly settings: AutoscalerSettings,
    @Optional() @Inject(CLOCK) clock?: Clock,
    @Optional() @Inject(LEADERSHIP) private readonly leadership?: Leadership | null,
    @Optional() @Inject(PoolEvents) events?: PoolEvents | null,
  ) {
    this.clock = clock ?? systemClock;
    // Self-healing changes the size too: the operator reads why in the same log (and /metrics).
    events?.subscribe({ membershipChanged: (change) => this.recordReplacement(change) });
  }

  private recordReplacement(change: MembershipChange): void {
    if (change.change !== 'replaced') return;
    const n = this.resizer.size();
    const what = change.node
      ? `replaced failed node ${change.node}${change.replacement ? ` by ${change.replacement}` : ''}`
      : 'grew back to the target size';
    this.record({
      ...noAction(new Date(change.at), n, `${what}: ${change.reason}`),
      action: 'replace',
      outcome: 'ok',
    });
  }

  /**
   * Never rejects: a failure is part of the returned (and recorded) decision. Only the leader of
   * the app instances decides; on the others a tick is a no-op, not even recorded.
   */
  async tick(): Promise<Decision> {
    if (this.leadership && !this.leadership.isLeader()) {
      return noAction(this.clock.now(), this.resizer.size(), 'not the leader');
    }
    if (this.running) {
      return {
        ...this.record(
          noAction(this.clock.now(), this.resizer.size(), 'previous tick still running'),
        ),
      };
    }
    this.running = true;
    try {
      const decision = this.record(await this.decideNow(this.clock.now()));
      if (decision.action !== 'none') await this.resize(decision);
      return { ...decision };
    } finally {
      this.running = false;
    }
  }

  /** The last 100 decisions, newest first. */
  recentDecisions(): Decision[] {
    return this.decisions.recent();
  }

  private async decideNow(now: Date): Promise<Decision> {
    let reading: MissRate | null = null;
    try {
      let policy = await this.policies.get();
      // Manual mode does nothing, not even a (billed) CloudWatch read.
      if (policy.mode === 'auto') {
        const windowMs = Math.min(MISS_RATE_WINDOW_MS, this.settings.intervalMs);
        reading = await this.missRates.missRate(now, windowMs);
        // Read again: a switch to manual during a slow metrics read must win.
        policy = await this.policies.get();
      }
      return decide({
        missRate: reading?.missRate ?? null,
        lookups: reading?.lookups ?? null,
        n: this.resizer.size(),
        policy,
        limits: this.settings.limits,
        now,
        lastResizeAt: this.lastResizeAt,
        resizing: this.resizer.isResizing(),
      });
    } catch (error) {
      return {
        ...noAction(now, this.resizer.size(), `no decision: ${describe(error)}`, {
          missRate: reading?.missRate ?? null,
          lookups: reading?.lookups ?? null,
        }),
        error: describe(error),
      };
    }
  }

  private async resize(decision: Decision): Promise<void> {
    const started = this.clock.now().getTime();
    try {
      // The token fences the save: a leader deposed while deciding cannot apply its decision.
      const token = this.leadership ? this.leadership.fencingToken() : undefined;
      if (token === null) throw new Error('lost the leader lease before resizing');
      await this.resizer.resizeTo(decision.target, `autoscaler: ${decision.reason}`, token);
      decision.outcome = 'ok';
      this.lastResizeAt = this.clock.now();
      const seconds = Math.round((this.lastResizeAt.getTime() - started) / 1000);
      this.logger.log(`resize ${decision.n} → ${decision.target} done in ${seconds} s`);
    } catch (error) {
      decision.outcome = 'failed';
      decision.error = describe(error);
      // Someone else's resize held the lock: nothing of ours ran, so no cooldown. Any other failure
      // may have changed part of the pool, and retrying a failing resize every tick helps no one.
      if (!isResizeInProgress(error)) this.lastResizeAt = this.clock.now();
      this.logger.warn(`resize ${decision.n} → ${decision.target} failed: ${decision.error}`);
    }
  }

  /** Keeps, logs and counts the decision; the kept object gets the resize outcome later. */
  private record(decision: Decision): Decision {
    this.decisions.add(decision);
    const reading =
      decision.missRate === null
        ? ''
        : ` (miss rate ${decision.missRate.toFixed(3)}, ${decision.lookups} lookups)`;
    if (decision.action === 'none') {
      const say = decision.error ? 'warn' : 'debug';
      this.logger[say](`no action at n=${decision.n}: ${decision.reason}${reading}`);
    } else {
      this.logger.log(
        `${decision.action} ${decision.n} → ${decision.target}: ${decision.reason}${reading}`,
      );
    }
    try {
      this.metrics.recordAutoscalerDecision(decision.action);
    } catch (error) {
      // Counting is not worth failing a tick over.
      this.logger.warn(`could not count the decision: ${describe(error)}`);
    }
    return decision;
  }
}

function isResizeInProgress(error: unknown): boolean {
  return error instanceof Error && error.name === 'ResizeInProgressError';
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.name && error.name !== 'Error' ? `${error.name}: ${error.message}` : error.message;
}
