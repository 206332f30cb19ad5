import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { NodeStatsSample } from '../metrics.ports';
import { StatsObserver } from '../stats.aggregator';
import { PROMETHEUS_REGISTRY } from './prometheus-registry';

export type ResizeDirection = 'grow' | 'shrink';
export type ResizeOutcome = 'ok' | 'failed';

type NodeCounterField = 'hits' | 'misses' | 'requests' | 'evictions';
const NODE_COUNTERS: readonly NodeCounterField[] = ['hits', 'misses', 'requests', 'evictions'];

/**
 * The pool's Prometheus metrics. Node metrics are fed by StatsAggregator (it calls observe() on every
 * poll); the pool and the auto-scaler call the record* methods.
 */
@Injectable()
export class PoolMetrics implements StatsObserver {
  private readonly poolSize: Gauge;
  private readonly nodeCounters: Record<NodeCounterField, Counter<'node'>>;
  private readonly nodeItems: Gauge<'node'>;
  private readonly nodeBytes: Gauge<'node'>;
  private readonly resizes: Counter<'direction' | 'outcome'>;
  private readonly resizeDuration: Histogram<'direction' | 'outcome'>;
  private readonly decisions: Counter<'action'>;
  private readonly labelledNodes = new Set<string>();

  constructor(@Inject(PROMETHEUS_REGISTRY) registry: Registry) {
    const registers = [registry];
    this.poolSize = new Gauge({
      name: 'pixpool_pool_size',
      help: 'Cache nodes in the pool',
      registers,
    });
    const counter = (field: NodeCounterField) =>
      new Counter({
        name: `pixpool_node_${field}_total`,
        help: `Cache ${field} served by the node`,
        labelNames: ['node'],
        registers,
      });
    this.nodeCounters = {
      hits: counter('hits'),
      misses: counter('misses'),
      requests: counter('requests'),
      evictions: counter('evictions'),
    };
    const gauge = (name: string, help: string) =>
      new Gauge({ name, help, labelNames: ['node'], registers });
    this.nodeItems = gauge('pixpool_node_items', 'Entries held by the node');
    this.nodeBytes = gauge('pixpool_node_bytes', 'Bytes of entries held by the node');
    const labelNames = ['direction', 'outcome'] as const;
    this.resizes = new Counter({
      name: 'pixpool_resizes_total',
      help: 'Pool resizes by direction and outcome',
      labelNames,
      registers,
    });
    this.resizeDuration = new Histogram({
      name: 'pixpool_resize_duration_seconds',
      help: 'Time from resize start to the last moved region handed over',
      labelNames,
      // Local nodes start in under a second; EC2 instances take minutes.
      buckets: [0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
      registers,
    });
    this.decisions = new Counter({
      name: 'pixpool_autoscaler_decisions_total',
      help: 'Auto-scaler decisions by action',
      labelNames: ['action'],
      registers,
    });
  }

  observe(samples: NodeStatsSample[], poolSize: number, members: readonly string[]): void {
    this.poolSize.set(poolSize);
    for (const sample of samples) {
      const labels = { node: sample.nodeId };
      for (const field of NODE_COUNTERS) {
        // inc by 0 still creates the node's series, so an idle node shows 0 rather than nothing. A
        // counter only goes up: a negative delta (the node restarted) carries no usable count.
        this.nodeCounters[field].inc(labels, Math.max(0, sample[field]));
      }
      this.nodeItems.set(labels, sample.items);
      this.nodeBytes.set(labels, sample.bytes);
      this.labelledNodes.add(sample.nodeId);
    }
    this.forgetNodesOtherThan(new Set(members));
  }

  recordResize(direction: ResizeDirection, outcome: ResizeOutcome, seconds: number): void {
    this.resizes.inc({ direction, outcome });
    this.resizeDuration.observe({ direction, outcome }, seconds);
  }

  /** `action` is one of a handful of words (e.g. grow, shrink, hold, cooldown): it is a label. */
  recordAutoscalerDecision(action: string): void {
    this.decisions.inc({ action });
  }

  /** A node that left the pool stops being exported, or every node ever started would stay forever. */
  private forgetNodesOtherThan(members: Set<string>): void {
    for (const node of this.labelledNodes) {
      if (members.has(node)) continue;
      for (const field of NODE_COUNTERS) this.nodeCounters[field].remove({ node });
      this.nodeItems.remove({ node });
      this.nodeBytes.remove({ node });
      this.labelledNodes.delete(node);
    }
  }
}
