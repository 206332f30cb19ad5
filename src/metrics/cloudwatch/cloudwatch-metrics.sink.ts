import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { MetricsSink, NodeStatsSample } from '../metrics.ports';
import { toMetricData } from './cloudwatch-metric-data';
import {
  cloudWatchCall,
  CloudWatchMetricsOptions,
  resolveCloudWatchOptions,
  ResolvedCloudWatchOptions,
} from './cloudwatch-metrics.options';

/** PutMetricData accepts at most 1000 metrics per request. */
export const PUT_METRIC_DATA_LIMIT = 1000;

/**
 * Publishes each node's statistics (dimension NodeId) and the pool totals (no NodeId), so the auto-scaler
 * reads the pool's miss rate with two metric queries however many nodes there are.
 */
export class CloudWatchMetricsSink implements MetricsSink {
  private readonly options: ResolvedCloudWatchOptions;

  constructor(
    options: CloudWatchMetricsOptions,
    private readonly cloudWatch: CloudWatchClient,
  ) {
    this.options = resolveCloudWatchOptions(options);
  }

  async publish(samples: NodeStatsSample[], poolSize: number): Promise<void> {
    const data = toMetricData(samples, poolSize, this.options.dimensions);
    const { namespace } = this.options;
    for (let first = 0; first < data.length; first += PUT_METRIC_DATA_LIMIT) {
      const batch = data.slice(first, first + PUT_METRIC_DATA_LIMIT);
      await cloudWatchCall(`PutMetricData of ${batch.length} metrics to ${namespace}`, () =>
        this.cloudWatch.send(new PutMetricDataCommand({ Namespace: namespace, MetricData: batch })),
      );
    }
  }
}
