import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { PROMETHEUS_REGISTRY } from '../metrics/prometheus/prometheus-registry';

/** Why a variant was not rendered: no room, too slow, or a source beyond the limits. */
export type RefusalReason = 'queue_full' | 'deadline' | 'source';

export interface TransformObserver {
  transformed(seconds: number): void;
  refused(reason: RefusalReason): void;
  /** Read when /metrics is scraped. */
  watch(state: () => { queued: number; running: number }): void;
}

/** Variant transforms in /metrics: how long they take, how many wait, why some were refused. */
@Injectable()
export class TransformMetrics implements TransformObserver {
  private readonly duration: Histogram;
  private readonly refusals: Counter<'reason'>;
  private state = () => ({ queued: 0, running: 0 });

  constructor(@Inject(PROMETHEUS_REGISTRY) registry: Registry) {
    const registers = [registry];
    this.duration = new Histogram({
      name: 'pixpool_transform_duration_seconds',
      help: 'Time to render one variant (decode, resize, encode)',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.refusals = new Counter({
      name: 'pixpool_transform_refusals_total',
      help: 'Variants not rendered, by reason (queue_full and deadline: 503; source: 422)',
      labelNames: ['reason'],
      registers,
    });
    for (const reason of ['queue_full', 'deadline', 'source']) this.refusals.inc({ reason }, 0);
    const queued: Gauge = new Gauge({
      name: 'pixpool_transform_queue_length',
      help: 'Transforms waiting for a slot',
      registers,
      collect: () => queued.set(this.state().queued),
    });
    const running: Gauge = new Gauge({
      name: 'pixpool_transforms_running',
      help: 'Transforms rendering now (at most imaging.concurrency)',
      registers,
      collect: () => running.set(this.state().running),
    });
  }

  transformed(seconds: number): void {
    this.duration.observe(seconds);
  }

  refused(reason: RefusalReason): void {
    this.refusals.inc({ reason });
  }

  watch(state: () => { queued: number; running: number }): void {
    this.state = state;
  }
}
