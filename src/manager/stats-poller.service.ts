import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { Leadership, LEADERSHIP } from '../coordination/leadership.port';
import { METRICS_SINK, MetricsSink } from '../metrics/metrics.ports';
import { StatsAggregator } from '../metrics/stats.aggregator';
import { NodeStats } from '../protocol/cache-node.protocol';
import { Clock, CLOCK, systemClock } from '../pool/clock.port';
import { PoolRouter, RoutedNode } from '../pool/routing/pool-router.service';
import { CacheSettingsReconciler } from './cache-settings.reconciler';
import { toSample } from './node-sample';

/** A node unseen this long is forgotten (bounded memory with EC2 instance ids coming and going). */
const FORGET_AFTER_MS = 60 * 60_000;

export interface PolledNode {
  node: RoutedNode;
  stats: NodeStats;
}

/**
 * Asks every routed node for its statistics each metrics.pollIntervalMs, turns its running totals
 * into the deltas since the previous poll (see toSample), and feeds the per-minute
 * aggregator (which also feeds Prometheus), the metrics sink and the cache-settings reconciler.
 *
 * A poll starts only after the previous one ended: a slow node must not pile polls up. A node that
 * does not answer is left out of this poll; NodeFailureService's health checks decide its fate.
 */
@Injectable()
export class StatsPoller implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(StatsPoller.name);
  private readonly clock: Clock;
  /**
   * What each node said at this instance's last poll of it. Kept a while after a node leaves the
   * assignment, so one that comes back still running (static nodes, a quarantine ended) is not
   * counted twice.
   */
  private readonly latest = new Map<string, { stats: NodeStats; seenMs: number }>();
  /** Nodes that started after this are new to this instance: their totals all count. */
  private readonly startedMs: number;
  private polls: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly config: AppConfig,
    private readonly router: PoolRouter,
    private readonly aggregator: StatsAggregator,
    private readonly reconciler: CacheSettingsReconciler,
    @Optional() @Inject(METRICS_SINK) private readonly sink: MetricsSink | null,
    @Optional() @Inject(CLOCK) clock?: Clock,
    @Optional() @Inject(LEADERSHIP) private readonly leadership?: Leadership | null,
  ) {
    this.clock = clock ?? systemClock;
    this.startedMs = this.clock.now().getTime();
  }

  onApplicationBootstrap(): void {
    this.schedule();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** What the node said at the last poll (gauges for the dashboard's node list). */
  latestStats(nodeId: string): NodeStats | undefined {
    return this.latest.get(nodeId)?.stats;
  }

  /**
   * One poll of every node, after any poll under way (polls never overlap, so no traffic is
   * counted twice); never rejects. getRate calls it so an answer includes the traffic just sent.
   */
  pollOnce(): Promise<PolledNode[]> {
    const poll = this.polls.then(() => this.poll());
    this.polls = poll.catch(() => undefined);
    return poll;
  }

  private async poll(): Promise<PolledNode[]> {
    const state = this.router.current;
    if (!state) return []; // the pool has not started: there is nothing to measure yet
    const answers = await Promise.all(this.router.nodes().map((node) => this.ask(node)));
    const polled = answers.filter((answer): answer is PolledNode => answer !== null);
    const at = this.clock.now();
    const samples = polled.map(({ node, stats }) =>
      toSample(node.id, at, stats, this.latest.get(node.id)?.stats, this.startedMs),
    );
    this.remember(polled, at.getTime());
    const poolSize = state.nodes.length;
    try {
      await this.aggregator.ingest(samples, poolSize);
    } catch (err) {
      this.logger.warn(`statistics of this poll not saved: ${(err as Error).message}`);
    }
    // Every instance sees all traffic (deltas of the nodes' totals), so one publishes it: the
    // leader; two would double every Sum. Not awaited: a slow CloudWatch must not delay the next poll.
    if (!this.leadership || this.leadership.isLeader()) {
      this.sink
        ?.publish(samples, poolSize)
        .catch((err: Error) => this.logger.warn(`metrics not published: ${err.message}`));
    }
    await this.reconciler
      .reconcile(polled)
      .catch((err: Error) => this.logger.warn(`cache settings not checked: ${err.message}`));
    return polled;
  }

  private async ask(node: RoutedNode): Promise<PolledNode | null> {
    try {
      return { node, stats: await node.client.stats() };
    } catch (err) {
      this.logger.debug(`no statistics from ${node.id}: ${(err as Error).message}`);
      return null;
    }
  }

  private remember(polled: PolledNode[], nowMs: number): void {
    for (const [id, { seenMs }] of this.latest) {
      if (nowMs - seenMs > FORGET_AFTER_MS) this.latest.delete(id);
    }
    for (const { node, stats } of polled) this.latest.set(node.id, { stats, seenMs: nowMs });
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.pollOnce().finally(() => this.schedule());
    }, this.config.metrics.pollIntervalMs);
    // The poll never keeps a process alive that is otherwise done (tests, the migrate CLI).
    this.timer.unref();
  }
}
