import { Controller, Get, INestApplication, NotFoundException, Param } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ConfigModule } from '../../../src/config/config.module';
import { loadConfig } from '../../../src/config/config-loader';
import { CloudWatchMetricsSink } from '../../../src/metrics/cloudwatch/cloudwatch-metrics.sink';
import { CloudWatchMissRateSource } from '../../../src/metrics/cloudwatch/cloudwatch-miss-rate.source';
import { LocalMissRateSource } from '../../../src/metrics/local-miss-rate.source';
import { METRICS_SINK, MISS_RATE_SOURCE } from '../../../src/metrics/metrics.ports';
import { MetricsModule } from '../../../src/metrics/metrics.module';
import { PoolMetrics } from '../../../src/metrics/prometheus/pool-metrics.service';
import { StatsAggregator } from '../../../src/metrics/stats.aggregator';
import { STATS_STORE } from '../../../src/metrics/stats-store.port';
import { FakeStatsStore, sample } from './stats-fixtures';

@Controller('images')
class ImagesProbeController {
  @Get(':key')
  get(@Param('key') key: string): { key: string } {
    if (key === 'missing') throw new NotFoundException('no such key');
    return { key };
  }
}

async function startApp(driver: 'local' | 'cloudwatch' = 'local') {
  const config = loadConfig({ overrides: { metrics: { driver } } });
  const moduleRef = await Test.createTestingModule({
    imports: [ConfigModule.forRoot(config), MetricsModule],
    controllers: [ImagesProbeController],
  })
    .overrideProvider(STATS_STORE)
    .useValue(new FakeStatsStore())
    .compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.listen(0, '127.0.0.1');
  return { app, url: await app.getUrl() };
}

async function scrape(url: string): Promise<{ type: string | null; body: string }> {
  const response = await fetch(`${url}/metrics`);
  expect(response.status).toBe(200);
  return { type: response.headers.get('content-type'), body: await response.text() };
}

describe('MetricsModule', () => {
  const apps: INestApplication[] = [];
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });

  it('serves Prometheus text with process, pool and per-route request metrics', async () => {
    const { app, url } = await startApp();
    apps.push(app);
    await fetch(`${url}/images/cat-1`);
    await fetch(`${url}/images/cat-2`);
    await fetch(`${url}/images/missing`);

    const { type, body } = await scrape(url);

    // Prometheus's text format 0.0.4; Express may reorder the parameters, which does not matter.
    expect(type).toMatch(/^text\/plain;/);
    expect(type).toContain('version=0.0.4');
    expect(body).toContain('process_cpu_user_seconds_total');
    expect(body).toContain('# TYPE pixpool_pool_size gauge');
    expect(body).toContain('# TYPE pixpool_http_request_duration_seconds histogram');
    expect(body).toMatch(
      /pixpool_http_request_duration_seconds_count\{method="GET",route="\/images\/:key",status="200"\} 2\n/,
    );
    expect(body).toMatch(
      /pixpool_http_request_duration_seconds_bucket\{le="0\.0005",method="GET",route="\/images\/:key",status="404"\} \d/,
    );
    // The key is never a label: one series per image would grow without bound.
    expect(body).not.toContain('cat-1');
  });

  it('exports node statistics from ingested polls, resizes and auto-scaler decisions', async () => {
    const { app, url } = await startApp();
    apps.push(app);
    const aggregator = app.get(StatsAggregator);
    const poolMetrics = app.get(PoolMetrics);

    await aggregator.ingest(
      [
        sample('node-a', Date.now(), { hits: 7, misses: 3, evictions: 1, items: 40, bytes: 4096 }),
        sample('node-b', Date.now(), { hits: 1, misses: 0, items: 2, bytes: 10 }),
      ],
      2,
    );
    await aggregator.ingest(
      [sample('node-a', Date.now(), { hits: 1, misses: 1, items: 41, bytes: 5000 })],
      1,
    );
    poolMetrics.recordResize('grow', 'ok', 1.5);
    poolMetrics.recordAutoscalerDecision('shrink');

    const { body } = await scrape(url);

    expect(body).toContain('pixpool_pool_size 1\n');
    expect(body).toContain('pixpool_node_hits_total{node="node-a"} 8\n');
    expect(body).toContain('pixpool_node_misses_total{node="node-a"} 4\n');
    expect(body).toContain('pixpool_node_requests_total{node="node-a"} 12\n');
    expect(body).toContain('pixpool_node_evictions_total{node="node-a"} 1\n');
    expect(body).toContain('pixpool_node_items{node="node-a"} 41\n');
    expect(body).toContain('pixpool_node_bytes{node="node-a"} 5000\n');
    // node-b left the pool (size 1): it is no longer exported.
    expect(body).not.toContain('node-b');
    expect(body).toContain('pixpool_resizes_total{direction="grow",outcome="ok"} 1\n');
    expect(body).toContain(
      'pixpool_resize_duration_seconds_sum{direction="grow",outcome="ok"} 1.5\n',
    );
    expect(body).toContain('pixpool_autoscaler_decisions_total{action="shrink"} 1\n');
  });

  it('lets two apps run in one process, each with its own metrics', async () => {
    const first = await startApp();
    const second = await startApp();
    apps.push(first.app, second.app);
    await fetch(`${first.url}/images/only-first`);

    const firstBody = (await scrape(first.url)).body;
    const secondBody = (await scrape(second.url)).body;

    expect(firstBody).toContain('route="/images/:key",status="200"} 1');
    expect(secondBody).not.toContain('route="/images/:key"');
  });

  it('uses the local miss-rate source and no sink with the local driver, CloudWatch with cloudwatch', async () => {
    const local = await startApp('local');
    const cloud = await startApp('cloudwatch');
    apps.push(local.app, cloud.app);

    expect(local.app.get(MISS_RATE_SOURCE)).toBeInstanceOf(LocalMissRateSource);
    expect(local.app.get(METRICS_SINK)).toBeNull();
    expect(cloud.app.get(MISS_RATE_SOURCE)).toBeInstanceOf(CloudWatchMissRateSource);
    expect(cloud.app.get(METRICS_SINK)).toBeInstanceOf(CloudWatchMetricsSink);
  });
});
