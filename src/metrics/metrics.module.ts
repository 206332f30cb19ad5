import { Global, Logger, Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { Clock, CLOCK, systemClock } from '../pool/clock.port';
import { METRICS_SINK, MISS_RATE_SOURCE } from './metrics.ports';
import {
  CLOUDWATCH_CLIENT,
  cloudWatchClientFor,
  metricsSinkFor,
  missRateSourceFor,
} from './metrics-drivers';
import { HttpMetricsInterceptor } from './prometheus/http-metrics.interceptor';
import { MetricsController } from './prometheus/metrics.controller';
import { PoolMetrics } from './prometheus/pool-metrics.service';
import { createPrometheusRegistry, PROMETHEUS_REGISTRY } from './prometheus/prometheus-registry';
import { StatsAggregator } from './stats.aggregator';
import { STATS_STORE, StatsStore } from './stats-store.port';
import { TypeOrmStatsStore } from './typeorm-stats.store';

async function createAggregator(
  store: StatsStore,
  config: AppConfig,
  poolMetrics: PoolMetrics,
  clock: Clock | undefined,
): Promise<StatsAggregator> {
  const aggregator = new StatsAggregator(store, clock ?? systemClock, {
    retentionMinutes: config.metrics.retentionMinutes,
    observers: [poolMetrics],
  });
  try {
    await aggregator.restore();
  } catch (error) {
    // Past minutes are for the dashboard only: the app serves images without them.
    new Logger('MetricsModule').warn(`statistics not restored: ${(error as Error).message}`);
  }
  return aggregator;
}

/**
 * Pool statistics, the miss-rate source of the auto-scaler and Prometheus `/metrics`. Global: the
 * pool, the manager, the auto-scaler and the front-end all record or read metrics.
 */
@Global()
@Module({
  controllers: [MetricsController],
  providers: [
    { provide: PROMETHEUS_REGISTRY, useFactory: createPrometheusRegistry },
    PoolMetrics,
    HttpMetricsInterceptor,
    { provide: APP_INTERCEPTOR, useExisting: HttpMetricsInterceptor },
    // DataSource comes from the database module (TypeOrmModule exports it app-wide).
    {
      provide: STATS_STORE,
      useFactory: (dataSource: DataSource) => new TypeOrmStatsStore(dataSource),
      inject: [DataSource],
    },
    {
      provide: StatsAggregator,
      useFactory: createAggregator,
      inject: [STATS_STORE, AppConfig, PoolMetrics, { token: CLOCK, optional: true }],
    },
    {
      provide: CLOUDWATCH_CLIENT,
      useFactory: (config: AppConfig) => cloudWatchClientFor(config.metrics),
      inject: [AppConfig],
    },
    {
      provide: MISS_RATE_SOURCE,
      useFactory: (
        config: AppConfig,
        aggregator: StatsAggregator,
        client: CloudWatchClient | null,
      ) => missRateSourceFor(config.metrics, aggregator, client),
      inject: [AppConfig, StatsAggregator, CLOUDWATCH_CLIENT],
    },
    {
      provide: METRICS_SINK,
      useFactory: (config: AppConfig, client: CloudWatchClient | null) =>
        metricsSinkFor(config.metrics, client),
      inject: [AppConfig, CLOUDWATCH_CLIENT],
    },
  ],
  exports: [
    StatsAggregator,
    PoolMetrics,
    MISS_RATE_SOURCE,
    METRICS_SINK,
    PROMETHEUS_REGISTRY,
    HttpMetricsInterceptor,
  ],
})
export class MetricsModule {}
