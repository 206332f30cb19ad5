import { Duration, Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { cloudwatch, cloudwatchActions, elbv2, sns } from './cdk';
import { METRICS_NAMESPACE, MISS_RATE_ALARM } from './settings';

export interface MonitoringProps {
  loadBalancer: elbv2.ApplicationLoadBalancer;
  alarmTopic: sns.ITopic;
}

/**
 * The dashboard and the alarms an operator watches. Pool metrics are the totals the app's
 * CloudWatch sink publishes without a NodeId dimension (src/metrics/cloudwatch), one datum per
 * metric per stats poll (5 s); alarms look at 1-minute sums.
 */
export class Monitoring extends Construct {
  readonly missRateHigh: cloudwatch.Alarm;
  readonly noHealthyNode: cloudwatch.Alarm;
  readonly serverErrors: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const pool = (metricName: string, statistic: string): cloudwatch.Metric =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        statistic,
        period: Duration.minutes(1),
      });
    const hits = pool('Hits', 'Sum');
    const misses = pool('Misses', 'Sum');
    const nodes = pool('PoolSize', 'Minimum');
    const requests = pool('Requests', 'Sum');
    const missRate = new cloudwatch.MathExpression({
      label: 'miss rate',
      expression: 'IF(hits + misses > 0, misses / (hits + misses), 0)',
      usingMetrics: { hits, misses },
      period: Duration.minutes(1),
    });
    const hitRate = new cloudwatch.MathExpression({
      label: 'hit rate',
      expression: 'IF(hits + misses > 0, hits / (hits + misses), 0)',
      usingMetrics: { hits, misses },
      period: Duration.minutes(1),
    });
    const lb = props.loadBalancer.metrics;
    const errorRate = new cloudwatch.MathExpression({
      label: '5xx rate',
      expression: 'IF(requests > 0, (target5xx + lb5xx) / requests, 0)',
      usingMetrics: {
        requests: lb.requestCount({ period: Duration.minutes(1) }),
        target5xx: lb.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, {
          period: Duration.minutes(1),
        }),
        lb5xx: lb.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { period: Duration.minutes(1) }),
      },
      period: Duration.minutes(1),
    });

    this.missRateHigh = missRate.createAlarm(this, 'MissRateHigh', {
      alarmDescription: `Cache miss rate above ${MISS_RATE_ALARM} for 10 minutes: the pool is too small or the auto-scaler is off/at max.`,
      threshold: MISS_RATE_ALARM,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 10,
      datapointsToAlarm: 10,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    // No PoolSize datum at all means the app is not publishing: as bad as no node.
    this.noHealthyNode = nodes.createAlarm(this, 'NoHealthyNode', {
      alarmDescription: 'No cache node in the pool for 3 minutes (or the app stopped publishing).',
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    this.serverErrors = errorRate.createAlarm(this, 'ServerErrors', {
      alarmDescription: 'More than 5 % of requests answered 5xx for 5 minutes.',
      threshold: 0.05,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 5,
      datapointsToAlarm: 5,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    for (const alarm of [this.missRateHigh, this.noHealthyNode, this.serverErrors]) {
      alarm.addAlarmAction(new cloudwatchActions.SnsAction(props.alarmTopic));
      alarm.addOkAction(new cloudwatchActions.SnsAction(props.alarmTopic));
    }

    new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: Stack.of(this).stackName,
      widgets: [
        [
          new cloudwatch.GraphWidget({
            title: 'Miss and hit rate',
            left: [missRate, hitRate],
            leftYAxis: { min: 0, max: 1 },
            width: 12,
          }),
          new cloudwatch.GraphWidget({ title: 'Cache nodes', left: [nodes], width: 12 }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Cache lookups per minute',
            left: [requests, hits, misses],
            width: 12,
          }),
          new cloudwatch.GraphWidget({
            title: 'HTTP requests and 5xx rate (load balancer)',
            left: [lb.requestCount({ period: Duration.minutes(1) })],
            right: [errorRate],
            width: 12,
          }),
        ],
        [
          new cloudwatch.AlarmStatusWidget({
            title: 'Alarms',
            alarms: [this.missRateHigh, this.noHealthyNode, this.serverErrors],
            width: 24,
          }),
        ],
      ],
    });
  }
}
