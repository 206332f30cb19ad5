export const METRICS_SINK = Symbol('MetricsSink');
export const MISS_RATE_SOURCE = Symbol('MissRateSource');

/** Counters of one node over one polling interval (deltas) plus gauges at its end. */
export interface NodeStatsSample {
  nodeId: string;
  at: Date;
  requests: number;
  hits: number;
  misses: number;
  items: number;
  bytes: number;
  evictions: number;
}

export interface MetricsSink {
  publish(samples: NodeStatsSample[], poolSize: number): Promise<void>;
}

export interface MissRate {
  /** 0..1, 0 with no lookups */
  missRate: number;
  lookups: number;
  hits: number;
  misses: number;
}

export interface MissRateSource {
  missRate(windowEnd: Date, windowMs: number): Promise<MissRate>;
}
