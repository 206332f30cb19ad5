import { Dimension, MetricDatum, StandardUnit } from '@aws-sdk/client-cloudwatch';
import { NodeStatsSample } from '../metrics.ports';
import { NODE_ID_DIMENSION } from './cloudwatch-metrics.options';

type SampleField = Exclude<keyof NodeStatsSample, 'nodeId' | 'at'>;

interface MetricSpec {
  name: string;
  field: SampleField;
  unit: StandardUnit;
  /** Counters are deltas over the interval and add up over time; gauges are levels at its end. */
  kind: 'counter' | 'gauge';
}

/** Metric names shared by the sink (writes them) and the miss-rate source (reads Hits and Misses back). */
export const METRICS: readonly MetricSpec[] = [
  { name: 'Requests', field: 'requests', unit: 'Count', kind: 'counter' },
  { name: 'Hits', field: 'hits', unit: 'Count', kind: 'counter' },
  { name: 'Misses', field: 'misses', unit: 'Count', kind: 'counter' },
  { name: 'Evictions', field: 'evictions', unit: 'Count', kind: 'counter' },
  { name: 'Items', field: 'items', unit: 'Count', kind: 'gauge' },
  { name: 'Bytes', field: 'bytes', unit: 'Bytes', kind: 'gauge' },
];
export const POOL_SIZE_METRIC = 'PoolSize';

/** One datum per metric per node (dimension NodeId), then the pool totals (configured dimensions only). */
export function toMetricData(
  samples: NodeStatsSample[],
  poolSize: number,
  dimensions: Dimension[],
): MetricDatum[] {
  const perNode = samples.flatMap((sample) =>
    METRICS.map((metric): MetricDatum => ({
      MetricName: metric.name,
      Dimensions: [...dimensions, { Name: NODE_ID_DIMENSION, Value: sample.nodeId }],
      Timestamp: sample.at,
      Value: sample[metric.field],
      Unit: metric.unit,
    })),
  );
  return [...perNode, ...poolTotals(samples, poolSize, dimensions)];
}

function poolTotals(
  samples: NodeStatsSample[],
  poolSize: number,
  dimensions: Dimension[],
): MetricDatum[] {
  const withDimensions = dimensions.length > 0 ? { Dimensions: dimensions } : {};
  const poolSizeDatum: MetricDatum = {
    MetricName: POOL_SIZE_METRIC,
    ...withDimensions,
    Value: poolSize,
    Unit: 'Count',
  };
  // Without samples there is no time to stamp; CloudWatch then uses the time it receives the datum.
  if (samples.length === 0) return [poolSizeDatum];
  const at = new Date(Math.max(...samples.map((sample) => sample.at.getTime())));
  // A gauge must not be counted twice when one call carries several samples of a node: take its latest.
  const latestPerNode = new Map<string, NodeStatsSample>();
  for (const sample of samples) {
    const seen = latestPerNode.get(sample.nodeId);
    if (!seen || seen.at.getTime() <= sample.at.getTime()) latestPerNode.set(sample.nodeId, sample);
  }
  const totals = METRICS.map((metric): MetricDatum => ({
    MetricName: metric.name,
    ...withDimensions,
    Timestamp: at,
    Value: sum(metric.kind === 'counter' ? samples : [...latestPerNode.values()], metric.field),
    Unit: metric.unit,
  }));
  return [...totals, { ...poolSizeDatum, Timestamp: at }];
}

function sum(samples: NodeStatsSample[], field: SampleField): number {
  return samples.reduce((total, sample) => total + sample[field], 0);
}
