import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { Logger } from '@nestjs/common';
import { mockClient } from 'aws-sdk-client-mock';
import { AutoscalerService } from '../../../src/autoscaler/autoscaler.service';
import { InMemoryAutoscalerPolicyStore } from '../../../src/autoscaler/in-memory-autoscaler-policy.store';
import { CloudWatchMissRateSource } from '../../../src/metrics/cloudwatch/cloudwatch-miss-rate.source';
import { PoolMetrics } from '../../../src/metrics/prometheus/pool-metrics.service';
import { Registry } from 'prom-client';
import { AUTO, FakeClock, FakePool, LIMITS, MINUTE } from './autoscaler-fakes';

describe('AutoscalerService with CloudWatch as the miss-rate source', () => {
  const cloudWatch = mockClient(CloudWatchClient);
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose', 'fatal']));
  beforeEach(() => cloudWatch.reset());

  function autoscalerOnCloudWatch() {
    const clock = new FakeClock();
    const pool = new FakePool(clock, 2);
    const source = new CloudWatchMissRateSource(
      { namespace: 'Pixpool', dimensions: { Stage: 'prod' } },
      new CloudWatchClient({ region: 'us-east-1' }),
    );
    const sut = new AutoscalerService(
      pool,
      source,
      new InMemoryAutoscalerPolicyStore(AUTO),
      new PoolMetrics(new Registry()),
      { limits: LIMITS, intervalMs: MINUTE, enabled: true },
      clock,
    );
    return { sut, pool };
  }

  it('asks GetMetricData for the pool Hits and Misses of the minute before the tick, and grows on them', async () => {
    cloudWatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'hits', Values: [6, 4], StatusCode: 'Complete' },
        { Id: 'misses', Values: [50, 40], StatusCode: 'Complete' },
      ],
    });
    const { sut, pool } = autoscalerOnCloudWatch();

    const decision = await sut.tick();

    const metric = (name: string) => ({
      Namespace: 'Pixpool',
      MetricName: name,
      Dimensions: [{ Name: 'Stage', Value: 'prod' }],
    });
    expect(cloudWatch.commandCalls(GetMetricDataCommand).map((call) => call.args[0].input)).toEqual(
      [
        {
          StartTime: new Date('2024-05-01T11:59:00.000Z'),
          EndTime: new Date('2024-05-01T12:00:00.000Z'),
          ScanBy: 'TimestampDescending',
          MetricDataQueries: [
            {
              Id: 'hits',
              MetricStat: { Metric: metric('Hits'), Period: 60, Stat: 'Sum' },
              ReturnData: true,
            },
            {
              Id: 'misses',
              MetricStat: { Metric: metric('Misses'), Period: 60, Stat: 'Sum' },
              ReturnData: true,
            },
          ],
        },
      ],
    );
    expect(decision).toMatchObject({
      missRate: 0.9,
      lookups: 100,
      action: 'grow',
      target: 4,
      outcome: 'ok',
    });
    expect(pool.n).toBe(4);
  });

  it('takes a minute with no datapoints as idle', async () => {
    cloudWatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'hits', Values: [], StatusCode: 'Complete' },
        { Id: 'misses', Values: [], StatusCode: 'Complete' },
      ],
    });
    const { sut, pool } = autoscalerOnCloudWatch();

    expect(await sut.tick()).toMatchObject({
      action: 'none',
      lookups: 0,
      reason: 'idle: 0 lookups < 10',
    });
    expect(pool.resizes).toEqual([]);
  });

  it('records a refused GetMetricData as no decision', async () => {
    cloudWatch
      .on(GetMetricDataCommand)
      .rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDenied' }));
    const { sut, pool } = autoscalerOnCloudWatch();

    const decision = await sut.tick();
    expect(decision).toMatchObject({ action: 'none' });
    expect(decision.error).toMatch(/GetMetricData .* failed: AccessDenied: User is not authorized/);
    expect(pool.resizes).toEqual([]);
  });
});
