import {
  CloudWatchClient,
  GetMetricDataCommand,
  GetMetricDataCommandInput,
  MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import { MissRate, MissRateSource } from '../metrics.ports';
import {
  cloudWatchCall,
  CloudWatchMetricsOptions,
  resolveCloudWatchOptions,
  ResolvedCloudWatchOptions,
} from './cloudwatch-metrics.options';

const QUERIES = [
  { id: 'hits', metricName: 'Hits' },
  { id: 'misses', metricName: 'Misses' },
] as const;

/** Reads the pool totals of Hits and Misses (published by CloudWatchMetricsSink) summed over the window. */
export class CloudWatchMissRateSource implements MissRateSource {
  private readonly options: ResolvedCloudWatchOptions;

  constructor(
    options: CloudWatchMetricsOptions,
    private readonly cloudWatch: CloudWatchClient,
  ) {
    this.options = resolveCloudWatchOptions(options);
  }

  async missRate(windowEnd: Date, windowMs: number): Promise<MissRate> {
    if (!(windowMs > 0)) throw new Error(`miss-rate window must be positive, got ${windowMs} ms`);
    const input: GetMetricDataCommandInput = {
      StartTime: new Date(windowEnd.getTime() - windowMs),
      EndTime: windowEnd,
      ScanBy: 'TimestampDescending',
      MetricDataQueries: QUERIES.map(({ id, metricName }) => this.query(id, metricName, windowMs)),
    };
    const sums = await this.sumPages(input);
    const hits = sums.get('hits') ?? 0;
    const misses = sums.get('misses') ?? 0;
    const lookups = hits + misses;
    return { missRate: lookups > 0 ? misses / lookups : 0, lookups, hits, misses };
  }

  private query(id: string, metricName: string, windowMs: number): MetricDataQuery {
    const { namespace, dimensions } = this.options;
    return {
      Id: id,
      MetricStat: {
        Metric: {
          Namespace: namespace,
          MetricName: metricName,
          ...(dimensions.length > 0 ? { Dimensions: dimensions } : {}),
        },
        // One period covers the window, but CloudWatch aligns periods to the minute, so the window can
        // straddle two datapoints: every returned value is summed. Periods must be multiples of 60 s.
        Period: Math.ceil(windowMs / 60_000) * 60,
        Stat: 'Sum',
      },
      ReturnData: true,
    };
  }

  /** Sums every value of every page per query id; a query with no datapoints (an idle pool) sums to nothing. */
  private async sumPages(input: GetMetricDataCommandInput): Promise<Map<string, number>> {
    const sums = new Map<string, number>();
    let nextToken: string | undefined;
    do {
      const page = await cloudWatchCall(
        `GetMetricData of Hits and Misses in ${this.options.namespace}`,
        () =>
          this.cloudWatch.send(
            new GetMetricDataCommand(nextToken ? { ...input, NextToken: nextToken } : input),
          ),
      );
      for (const result of page.MetricDataResults ?? []) {
        if (result.StatusCode === 'Forbidden' || result.StatusCode === 'InternalError') {
          const why = (result.Messages ?? []).map((message) => message.Value).join('; ');
          throw new Error(
            `GetMetricData query ${result.Id} answered ${result.StatusCode}${why ? `: ${why}` : ''}`,
          );
        }
        const values = result.Values ?? [];
        if (result.Id)
          sums.set(result.Id, (sums.get(result.Id) ?? 0) + values.reduce((a, b) => a + b, 0));
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return sums;
  }
}
