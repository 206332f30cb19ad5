import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { MetricsConfig } from '../config/app-config';
import { CloudWatchMetricsSink } from './cloudwatch/cloudwatch-metrics.sink';
import { CloudWatchMissRateSource } from './cloudwatch/cloudwatch-miss-rate.source';
import {
  CloudWatchMetricsOptions,
  createCloudWatchClient,
} from './cloudwatch/cloudwatch-metrics.options';
import { LocalMissRateSource } from './local-miss-rate.source';
import { MetricsSink, MissRateSource } from './metrics.ports';
import { StatsAggregator } from './stats.aggregator';

/** One client shared by the sink and the source; null with the local driver. */
export const CLOUDWATCH_CLIENT = Symbol('CloudWatchClient');

export function cloudWatchClientFor(config: MetricsConfig): CloudWatchClient | null {
  return config.driver === 'cloudwatch' ? createCloudWatchClient({ region: config.region }) : null;
}

export function missRateSourceFor(
  config: MetricsConfig,
  aggregator: StatsAggregator,
  client: CloudWatchClient | null,
): MissRateSource {
  if (!client) return new LocalMissRateSource(aggregator);
  return new CloudWatchMissRateSource(cloudWatchOptions(config), client);
}

/**
 * Null with the local driver: the poller ingests every poll into StatsAggregator whatever the driver,
 * and publishes it to the sink as well only when there is one.
 */
export function metricsSinkFor(
  config: MetricsConfig,
  client: CloudWatchClient | null,
): MetricsSink | null {
  return client ? new CloudWatchMetricsSink(cloudWatchOptions(config), client) : null;
}

function cloudWatchOptions(config: MetricsConfig): CloudWatchMetricsOptions {
  return {
    namespace: config.namespace,
    dimensions: parseDimensions(config.dimensions),
    region: config.region,
  };
}

/** "Stage=prod,Team=img" → { Stage: 'prod', Team: 'img' }; the config validator has checked the shape. */
export function parseDimensions(text: string): Record<string, string> {
  const dimensions: Record<string, string> = {};
  for (const pair of text.split(',')) {
    if (!pair.trim()) continue;
    const [name, value] = pair.split('=');
    dimensions[name.trim()] = (value ?? '').trim();
  }
  return dimensions;
}
