import { PoolEvents } from '../../../src/pool/pool-events';
import { Leadership } from '../../../src/coordination/leadership.port';
import { Registry } from 'prom-client';
import { AutoscalerPolicy, PoolResizer } from '../../../src/autoscaler/autoscaler.ports';
import { AutoscalerService } from '../../../src/autoscaler/autoscaler.service';
import { InMemoryAutoscalerPolicyStore } from '../../../src/autoscaler/in-memory-autoscaler-policy.store';
import { MissRate, MissRateSource } from '../../../src/metrics/metrics.ports';
import { PoolMetrics } from '../../../src/metrics/prometheus/pool-metrics.service';
import { Clock } from '../../../src/pool/clock.port';
import { ResizeLock } from '../../../src/pool/membership/resize-lock';

export const T0 = new Date('2024-05-01T12:00:00.000Z');
export const MINUTE = 60_000;

export const AUTO: AutoscalerPolicy = {
  mode: 'auto',
  maxMiss: 0.8,
  minMiss: 0.2,
  expRatio: 2,
  shrinkRatio: 0.5,
};
export const LIMITS = { min: 1, max: 8, minLookups: 10, cooldownMs: 2 * MINUTE };

/** Simulated time: it moves only when a test (or a simulated resize) moves it. */
export class FakeClock implements Clock {
  private ms = T0.getTime();
  now(): Date {
    return new Date(this.ms);
  }
  advance(ms: number): void {
    this.ms += ms;
  }
  async sleep(ms: number): Promise<void> {
    this.advance(ms);
  }
}

export class Gate {
  readonly opened: Promise<void>;
  open!: () => void;
  constructor() {
    this.opened = new Promise((resolve) => (this.open = resolve));
  }
}

/** A pool whose resizes take simulated time and hold the real rebalance lock. */
export class FakePool implements PoolResizer {
  readonly lock = new ResizeLock();
  readonly resizes: { target: number; reason: string; fencingToken?: number | null }[] = [];
  /** Simulated duration of a resize. */
  durationMs = 30_000;
  /** When set, the next resize waits for it to open. */
  gate: Gate | null = null;
  failure: Error | null = null;

  constructor(
    private readonly clock: FakeClock,
    public n = 2,
  ) {}

  size(): number {
    return this.n;
  }
  isResizing(): boolean {
    return this.lock.busy;
  }
  resizeTo(target: number, reason: string, fencingToken?: number | null): Promise<void> {
    return this.lock.run(reason, async () => {
      this.resizes.push(
        fencingToken === undefined ? { target, reason } : { target, reason, fencingToken },
      );
      const gate = this.gate;
      this.gate = null;
      if (gate) await gate.opened;
      await this.clock.sleep(this.durationMs);
      if (this.failure) throw this.failure;
      this.n = target;
    });
  }
}

export class ScriptedMissRates implements MissRateSource {
  readonly calls: { windowEnd: Date; windowMs: number }[] = [];
  next: MissRate | Error = reading(0.5, 100);
  gate: Gate | null = null;

  async missRate(windowEnd: Date, windowMs: number): Promise<MissRate> {
    this.calls.push({ windowEnd, windowMs });
    if (this.gate) await this.gate.opened;
    if (this.next instanceof Error) throw this.next;
    return this.next;
  }
}

/** pixpool_autoscaler_decisions_total by action, as Prometheus would scrape it. */
export async function decisionCounts(registry: Registry): Promise<Record<string, number>> {
  const counter = registry.getSingleMetric('pixpool_autoscaler_decisions_total');
  const counts: Record<string, number> = {};
  for (const { labels, value } of (await counter?.get())?.values ?? []) {
    counts[String(labels.action)] = value;
  }
  return counts;
}

/** A minute with this miss rate over this many lookups. */
export function reading(missRate: number, lookups: number): MissRate {
  const misses = Math.round(missRate * lookups);
  return { missRate, lookups, hits: lookups - misses, misses };
}

export function autoscaler(
  options: {
    policy?: Partial<AutoscalerPolicy>;
    n?: number;
    leadership?: Leadership;
    events?: PoolEvents;
  } = {},
) {
  const clock = new FakeClock();
  const pool = new FakePool(clock, options.n ?? 2);
  const missRates = new ScriptedMissRates();
  const policies = new InMemoryAutoscalerPolicyStore({ ...AUTO, ...options.policy });
  const registry = new Registry();
  const sut = new AutoscalerService(
    pool,
    missRates,
    policies,
    new PoolMetrics(registry),
    { limits: LIMITS, intervalMs: MINUTE, enabled: true },
    clock,
    options.leadership,
    options.events,
  );
  return { sut, clock, pool, missRates, policies, registry };
}
