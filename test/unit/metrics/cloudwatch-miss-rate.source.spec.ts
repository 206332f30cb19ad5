import 'aws-sdk-client-mock-jest';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { CloudWatchMissRateSource } from '../../../src/metrics/cloudwatch/cloudwatch-miss-rate.source';

const END = new Date('2024-05-01T12:00:30Z');

describe('CloudWatchMissRateSource', () => {
  const cloudWatchMock = mockClient(CloudWatchClient);
  const source = (dimensions?: Record<string, string>) =>
    new CloudWatchMissRateSource(
      { namespace: 'PixpoolTest', dimensions },
      new CloudWatchClient({}),
    );

  beforeEach(() => cloudWatchMock.reset());

  it('asks for the pool Hits and Misses sums over the window and computes the miss rate', async () => {
    cloudWatchMock.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'hits', Values: [30, 40], StatusCode: 'Complete' },
        { Id: 'misses', Values: [25, 5], StatusCode: 'Complete' },
      ],
    });

    const rate = await source({ Stage: 'prod' }).missRate(END, 60_000);

    expect(rate).toEqual({ missRate: 0.3, lookups: 100, hits: 70, misses: 30 });
    const metric = (name: string) => ({
      Namespace: 'PixpoolTest',
      MetricName: name,
      Dimensions: [{ Name: 'Stage', Value: 'prod' }],
    });
    expect(cloudWatchMock.commandCalls(GetMetricDataCommand)[0].args[0].input).toEqual({
      StartTime: new Date('2024-05-01T11:59:30Z'),
      EndTime: END,
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
    });
  });

  it('rounds the period up to a whole minute and reads dimension-less pool totals when none are configured', async () => {
    cloudWatchMock.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });

    await source().missRate(END, 90_000);

    expect(cloudWatchMock).toHaveReceivedCommandWith(GetMetricDataCommand, {
      StartTime: new Date('2024-05-01T11:59:00Z'),
      MetricDataQueries: [
        {
          Id: 'hits',
          MetricStat: {
            Metric: { Namespace: 'PixpoolTest', MetricName: 'Hits' },
            Period: 120,
            Stat: 'Sum',
          },
          ReturnData: true,
        },
        {
          Id: 'misses',
          MetricStat: {
            Metric: { Namespace: 'PixpoolTest', MetricName: 'Misses' },
            Period: 120,
            Stat: 'Sum',
          },
          ReturnData: true,
        },
      ],
    });
  });

  it('is 0 with no lookups, whether datapoints are missing or results are absent', async () => {
    cloudWatchMock
      .on(GetMetricDataCommand)
      .resolvesOnce({
        MetricDataResults: [
          { Id: 'hits', Values: [] },
          { Id: 'misses', Values: [] },
        ],
      })
      .resolvesOnce({});

    await expect(source().missRate(END, 60_000)).resolves.toEqual({
      missRate: 0,
      lookups: 0,
      hits: 0,
      misses: 0,
    });
    await expect(source().missRate(END, 60_000)).resolves.toEqual({
      missRate: 0,
      lookups: 0,
      hits: 0,
      misses: 0,
    });
  });

  it('sums values across NextToken pages', async () => {
    cloudWatchMock
      .on(GetMetricDataCommand)
      .resolvesOnce({
        MetricDataResults: [
          { Id: 'hits', Values: [10], StatusCode: 'PartialData' },
          { Id: 'misses', Values: [], StatusCode: 'PartialData' },
        ],
        NextToken: 'more',
      })
      .resolvesOnce({
        MetricDataResults: [{ Id: 'misses', Values: [10], StatusCode: 'Complete' }],
      });

    await expect(source().missRate(END, 60_000)).resolves.toEqual({
      missRate: 0.5,
      lookups: 20,
      hits: 10,
      misses: 10,
    });
    expect(cloudWatchMock).toHaveReceivedCommandTimes(GetMetricDataCommand, 2);
    expect(cloudWatchMock).toHaveReceivedNthCommandWith(2, GetMetricDataCommand, {
      NextToken: 'more',
    });
  });

  it('fails clearly when CloudWatch refuses a query or the call', async () => {
    cloudWatchMock
      .on(GetMetricDataCommand)
      .resolvesOnce({
        MetricDataResults: [
          {
            Id: 'hits',
            StatusCode: 'Forbidden',
            Messages: [{ Code: 'Forbidden', Value: 'no access' }],
          },
        ],
      })
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));

    await expect(source().missRate(END, 60_000)).rejects.toThrow(
      'GetMetricData query hits answered Forbidden: no access',
    );
    await expect(source().missRate(END, 60_000)).rejects.toThrow(
      'GetMetricData of Hits and Misses in PixpoolTest failed: Throttling: Rate exceeded',
    );
  });
});
