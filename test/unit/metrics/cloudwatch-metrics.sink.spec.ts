import 'aws-sdk-client-mock-jest';
import { CloudWatchClient, MetricDatum, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { NodeStatsSample } from '../../../src/metrics/metrics.ports';
import { CloudWatchMetricsSink } from '../../../src/metrics/cloudwatch/cloudwatch-metrics.sink';

const T1 = new Date('2024-05-01T12:00:00Z');
const T2 = new Date('2024-05-01T12:01:00Z');

function sample(nodeId: string, at: Date, counts: Partial<NodeStatsSample> = {}): NodeStatsSample {
  return {
    nodeId,
    at,
    requests: 0,
    hits: 0,
    misses: 0,
    items: 0,
    bytes: 0,
    evictions: 0,
    ...counts,
  };
}

describe('CloudWatchMetricsSink', () => {
  const cloudWatchMock = mockClient(CloudWatchClient);
  const sent = () =>
    cloudWatchMock.commandCalls(PutMetricDataCommand).map((call) => call.args[0].input);

  beforeEach(() => {
    cloudWatchMock.reset();
    cloudWatchMock.on(PutMetricDataCommand).resolves({});
  });

  it('publishes per-node metrics with NodeId and the pool totals without it, under the configured namespace', async () => {
    const sut = new CloudWatchMetricsSink(
      { namespace: 'PixpoolTest', dimensions: { Stage: 'prod' } },
      new CloudWatchClient({}),
    );
    const node = (id: string) => [
      { Name: 'Stage', Value: 'prod' },
      { Name: 'NodeId', Value: id },
    ];
    const pool = [{ Name: 'Stage', Value: 'prod' }];

    await sut.publish(
      [
        sample('i-1', T1, {
          requests: 10,
          hits: 7,
          misses: 3,
          items: 5,
          bytes: 2048,
          evictions: 1,
        }),
        sample('i-2', T2, { requests: 4, hits: 1, misses: 3, items: 2, bytes: 100, evictions: 0 }),
      ],
      2,
    );

    expect(cloudWatchMock).toHaveReceivedCommandTimes(PutMetricDataCommand, 1);
    const datum = (
      name: string,
      dims: MetricDatum['Dimensions'],
      at: Date | undefined,
      value: number,
      unit = 'Count',
    ) => ({
      MetricName: name,
      Dimensions: dims,
      Timestamp: at,
      Value: value,
      Unit: unit,
    });
    expect(sent()).toEqual([
      {
        Namespace: 'PixpoolTest',
        MetricData: [
          datum('Requests', node('i-1'), T1, 10),
          datum('Hits', node('i-1'), T1, 7),
          datum('Misses', node('i-1'), T1, 3),
          datum('Evictions', node('i-1'), T1, 1),
          datum('Items', node('i-1'), T1, 5),
          datum('Bytes', node('i-1'), T1, 2048, 'Bytes'),
          datum('Requests', node('i-2'), T2, 4),
          datum('Hits', node('i-2'), T2, 1),
          datum('Misses', node('i-2'), T2, 3),
          datum('Evictions', node('i-2'), T2, 0),
          datum('Items', node('i-2'), T2, 2),
          datum('Bytes', node('i-2'), T2, 100, 'Bytes'),
          datum('Requests', pool, T2, 14),
          datum('Hits', pool, T2, 8),
          datum('Misses', pool, T2, 6),
          datum('Evictions', pool, T2, 1),
          datum('Items', pool, T2, 7),
          datum('Bytes', pool, T2, 2148, 'Bytes'),
          datum('PoolSize', pool, T2, 2),
        ],
      },
    ]);
  });

  it('defaults to namespace Pixpool and leaves pool totals without dimensions when none are configured', async () => {
    const sut = new CloudWatchMetricsSink({}, new CloudWatchClient({}));

    await sut.publish([sample('i-1', T1, { hits: 2 })], 1);

    const [input] = sent();
    expect(input.Namespace).toBe('Pixpool');
    expect(input.MetricData?.find((d) => d.MetricName === 'Hits' && !d.Dimensions)).toEqual({
      MetricName: 'Hits',
      Timestamp: T1,
      Value: 2,
      Unit: 'Count',
    });
    expect(input.MetricData?.[1].Dimensions).toEqual([{ Name: 'NodeId', Value: 'i-1' }]);
  });

  it('adds up a node counters over several intervals but counts its items and bytes once, at the latest sample', async () => {
    const sut = new CloudWatchMetricsSink({}, new CloudWatchClient({}));

    await sut.publish(
      [sample('i-1', T2, { misses: 2, items: 9 }), sample('i-1', T1, { misses: 3, items: 4 })],
      1,
    );

    const pool = sent()[0].MetricData?.filter((d) => !d.Dimensions) ?? [];
    expect(pool.find((d) => d.MetricName === 'Misses')?.Value).toBe(5);
    expect(pool.find((d) => d.MetricName === 'Items')?.Value).toBe(9);
  });

  it('still reports the pool size when no node could be sampled', async () => {
    const sut = new CloudWatchMetricsSink({}, new CloudWatchClient({}));

    await sut.publish([], 3);

    expect(sent()).toEqual([
      { Namespace: 'Pixpool', MetricData: [{ MetricName: 'PoolSize', Value: 3, Unit: 'Count' }] },
    ]);
  });

  it('splits into requests of at most 1000 metrics', async () => {
    const sut = new CloudWatchMetricsSink({}, new CloudWatchClient({}));
    const samples = Array.from({ length: 200 }, (_, i) => sample(`n-${i}`, T1, { hits: 1 }));

    await sut.publish(samples, 200);

    // 200 nodes x 6 metrics + 7 pool metrics
    expect(sent().map((input) => input.MetricData?.length)).toEqual([1000, 207]);
    expect(sent()[1].MetricData?.at(-1)).toEqual({
      MetricName: 'PoolSize',
      Timestamp: T1,
      Value: 200,
      Unit: 'Count',
    });
  });

  it('says which call failed', async () => {
    cloudWatchMock.on(PutMetricDataCommand).rejects(
      Object.assign(new Error('User is not authorized to perform: cloudwatch:PutMetricData'), {
        name: 'AccessDenied',
      }),
    );
    const sut = new CloudWatchMetricsSink({}, new CloudWatchClient({}));

    await expect(sut.publish([sample('i-1', T1)], 1)).rejects.toThrow(
      'PutMetricData of 13 metrics to Pixpool failed: AccessDenied: User is not authorized to perform: cloudwatch:PutMetricData',
    );
  });

  it('refuses a configured NodeId dimension, which would mix node and pool metrics', () => {
    expect(
      () => new CloudWatchMetricsSink({ dimensions: { NodeId: 'x' } }, new CloudWatchClient({})),
    ).toThrow('CloudWatch dimension "NodeId" is set per node and cannot be configured');
  });
});
