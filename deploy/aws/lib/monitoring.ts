import { Duration, Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { cloudwatch, cloudwatchActions, elbv2, rds, sns } from './cdk';
import { METRICS_NAMESPACE, MISS_RATE_ALARM } from './settings';

export interface MonitoringProps {
  loadBalancer: elbv2.ApplicationLoadBalancer;
  alarmTopic: sns.ITopic;
  /** Liveness: what the listener forwards to. */
  appTargets: elbv2.ApplicationTargetGroup;
  /** Readiness: only health-checked, never a reason to replace the instance. */
  readinessTargets: elbv2.ApplicationTargetGroup;
  database: rds.DatabaseInstance;
  dbInstanceType: string;
  appGroupName: string;
  appInstanceType: string;
  /** The pre-provisioned nodes (app-launched ones have no fixed id to alarm on). */
  nodeInstanceIds: string[];
}

const burstable = (instanceType: string): boolean => /^(db\.)?t\d/.test(instanceType);

/**
 * The dashboard and the alarms an operator watches. Pool metrics are the totals the app's
 * CloudWatch sink publishes without a NodeId dimension (src/metrics/cloudwatch), one datum per
 * metric per stats poll (5 s); alarms look at 1-minute sums.
 */
export class Monitoring extends Construct {
  readonly missRateHigh: cloudwatch.Alarm;
  readonly noHealthyNode: cloudwatch.Alarm;
  readonly serverErrors: cloudwatch.Alarm;
  readonly all: cloudwatch.Alarm[] = [];

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
      // Both counts are absent (not 0) in a minute without a 5xx: FILL, or the sum is absent too.
      expression: 'IF(requests > 0, (FILL(target5xx, 0) + FILL(lb5xx, 0)) / requests, 0)',
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
    this.all.push(this.missRateHigh, this.noHealthyNode, this.serverErrors);
    this.all.push(...this.appAndDatabaseAlarms(props));
    for (const alarm of this.all) {
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
            alarms: this.all,
            width: 24,
          }),
        ],
      ],
    });
  }

  /** Healthy hosts, readiness, database storage, CPU credits, node status checks. */
  private appAndDatabaseAlarms(props: MonitoringProps): cloudwatch.Alarm[] {
    const minute = Duration.minutes(1);
    const alarms = [
      props.appTargets.metrics
        .healthyHostCount({ period: minute })
        .createAlarm(this, 'NoHealthyApp', {
          alarmDescription: 'No healthy app instance behind the load balancer for 3 minutes.',
          threshold: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
          evaluationPeriods: 3,
          treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        }),
      props.readinessTargets.metrics
        .unhealthyHostCount({ period: minute, statistic: 'Maximum' })
        .createAlarm(this, 'AppNotReady', {
          alarmDescription:
            'An app instance not ready (database or storage unreachable) for 5 minutes; it keeps serving cached images.',
          threshold: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 5,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      props.database
        .metricFreeStorageSpace({ period: Duration.minutes(5), statistic: 'Minimum' })
        .createAlarm(this, 'DatabaseStorageLow', {
          alarmDescription:
            'Database free storage below 2 GiB (autoscaling storage stops at 100 GiB).',
          threshold: 2 * 1024 ** 3,
          comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        }),
    ];
    const credits = (id: string, what: string, metric: cloudwatch.Metric): void => {
      alarms.push(
        metric.createAlarm(this, id, {
          alarmDescription: `${what} is running out of CPU credits: it will be throttled to its baseline.`,
          threshold: 20,
          comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
          evaluationPeriods: 3,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
    };
    if (burstable(props.appInstanceType)) {
      credits(
        'AppCpuCreditsLow',
        'The app',
        new cloudwatch.Metric({
          namespace: 'AWS/EC2',
          metricName: 'CPUCreditBalance',
          dimensionsMap: { AutoScalingGroupName: props.appGroupName },
          statistic: 'Minimum',
          period: Duration.minutes(5),
        }),
      );
    }
    if (burstable(props.dbInstanceType)) {
      credits(
        'DatabaseCpuCreditsLow',
        'The database',
        props.database.metric('CPUCreditBalance', {
          statistic: 'Minimum',
          period: Duration.minutes(5),
        }),
      );
    }
    props.nodeInstanceIds.forEach((instanceId, i) => {
      alarms.push(
        new cloudwatch.Metric({
          namespace: 'AWS/EC2',
          metricName: 'StatusCheckFailed',
          dimensionsMap: { InstanceId: instanceId },
          statistic: 'Maximum',
          period: minute,
        }).createAlarm(this, `Node${i + 1}StatusCheck`, {
          alarmDescription: `Cache node ${i + 1} failed its EC2 status check for 3 minutes (a stopped node reports nothing).`,
          threshold: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 3,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
    });
    return alarms;
  }
}
