import {
  CfnOutput,
  CfnParameter,
  Duration,
  Fn,
  RemovalPolicy,
  Stack,
  StackProps,
  Tags,
} from 'aws-cdk-lib';
import { FactName } from 'aws-cdk-lib/region-info';
import { Construct } from 'constructs';
import * as fs from 'node:fs';
import { grantAppPermissions } from './app-permissions';
import { acknowledge } from './checks';
import {
  autoscaling,
  budgets,
  ec2,
  elbv2,
  iam,
  logs,
  rds,
  s3,
  s3assets,
  secretsmanager,
  sns,
  ssm,
  subscriptions,
} from './cdk';
import { Monitoring } from './monitoring';
import { Network } from './network';
import {
  APP_LIVENESS_PATH,
  APP_PORT,
  APP_READINESS_PATH,
  DB_NAME,
  DB_PORT,
  DB_APP_USER,
  DB_USER,
  METRICS_NAMESPACE,
  NODE_PORT,
  POOL_TAG_KEY,
} from './settings';
import { installUserData } from './user-data';

export interface PixpoolStackProps extends StackProps {
  /** dist/artifacts, made by deploy/scripts/build-artifacts.sh. */
  artifactsDir: string;
  /** Deploy into this VPC (needs its private subnets with a route out) instead of a new one. */
  vpcId?: string;
  /**
   * A NAT gateway for the private subnets (default true); false: none, the private subnets are
   * isolated and reach AWS through interface endpoints (lib/network.ts). A new VPC only.
   */
  nat?: boolean;
  /** Cache-node instances created once and left stopped for the EC2 provider to start (0..8). */
  preProvisionedNodes: number;
  appInstanceType: string;
  nodeInstanceType: string;
  /** Cache capacity per node; leave room for Node itself (~150 MB) on the instance. */
  nodeCapacityMb: number;
  dbInstanceType: string;
  /** Where alarms are mailed; without it subscribe to the AlarmTopic output yourself. */
  alarmEmail?: string;
  /** How long CloudWatch keeps the instances' logs (a CloudWatch Logs retention; default 30). */
  logRetentionDays?: number;
  /** The monthly cost budget (USD) whose actual 80 % and forecast 100 % alarm the topic (default 200). */
  monthlyBudgetUsd?: number;
}

/** Characters that need quoting in a systemd EnvironmentFile or a URL. */
const DB_PASSWORD_EXCLUDED = ' %+~`#$&*()|[]{}:;<>?!\'/@"\\=^,.';

/** Amazon Linux 2023 for the instance type's architecture: Graviton (t4g, c7g, ...) needs arm64. */
function imageFor(instanceType: string): ec2.IMachineImage {
  const arm = new ec2.InstanceType(instanceType).architecture === ec2.InstanceArchitecture.ARM_64;
  return ec2.MachineImage.latestAmazonLinux2023({
    cpuType: arm ? ec2.AmazonLinuxCpuType.ARM_64 : ec2.AmazonLinuxCpuType.X86_64,
  });
}

/** Encrypted gp3 root volume (the app's holds the database password and admin token). */
function encryptedRoot(sizeGiB: number): ec2.BlockDevice[] {
  return [
    {
      deviceName: '/dev/xvda',
      volume: ec2.BlockDeviceVolume.ebs(sizeGiB, {
        encrypted: true,
        volumeType: ec2.EbsDeviceVolumeType.GP3,
      }),
    },
  ];
}

/**
 * The whole of pixpool on AWS: the app behind an HTTPS load balancer, cache nodes for the EC2
 * provider, S3 for images, RDS MySQL for the key table, secrets, least-privilege roles, and the
 * dashboard and alarms. docs/deploy-aws.md walks through it; docs/architecture.md says why.
 */
export class PixpoolStack extends Stack {
  constructor(scope: Construct, id: string, props: PixpoolStackProps) {
    super(scope, id, props);
    if (!fs.existsSync(`${props.artifactsDir}/pixpool-node.js`)) {
      throw new Error(
        `${props.artifactsDir} has no artifacts: run deploy/scripts/build-artifacts.sh first`,
      );
    }
    if (
      !Number.isInteger(props.preProvisionedNodes) ||
      props.preProvisionedNodes < 0 ||
      props.preProvisionedNodes > 8
    ) {
      throw new Error(
        `preProvisionedNodes must be an integer from 0 to 8, got ${props.preProvisionedNodes}`,
      );
    }
    const certificateArn = new CfnParameter(this, 'CertificateArn', {
      type: 'String',
      description: "ACM certificate (in this region) for the load balancer's HTTPS listener",
      allowedPattern: '^arn:aws[a-z-]*:acm:.+',
    });
    const publicHostNames = new CfnParameter(this, 'PublicHostNames', {
      type: 'String',
      description:
        "Names clients reach pixpool by (the certificate's), comma-separated: the app refuses any other Host",
      allowedPattern: '^[A-Za-z0-9.*-]+(,[A-Za-z0-9.*-]+)*$',
    });

    // ── network ────────────────────────────────────────────────────────────────────────────
    const network = new Network(this, 'Network', { vpcId: props.vpcId, nat: props.nat ?? true });
    const { vpc, privateSubnets } = network;

    // Exactly: internet → ALB 443, ALB → app 5000, app → node 5001, node → node 5001 (region
    // transfers), app → RDS 3306. Outbound stays open: with the NAT, AWS APIs and the Amazon Linux
    // repositories through it and the S3 gateway endpoint; without it (nat=false) the private
    // subnets have no route out, and the S3 gateway endpoint and the interface endpoints (443 from
    // the app and node groups only) are all there is to reach.
    const albSg = new ec2.SecurityGroup(this, 'LoadBalancerSg', {
      vpc,
      description: 'pixpool load balancer',
    });
    const appSg = new ec2.SecurityGroup(this, 'AppSg', { vpc, description: 'pixpool app' });
    const nodeSg = new ec2.SecurityGroup(this, 'NodeSg', {
      vpc,
      description: 'pixpool cache nodes',
    });
    const dbSg = new ec2.SecurityGroup(this, 'DatabaseSg', {
      vpc,
      description: 'pixpool database',
    });
    albSg.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS from clients');
    albSg.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(80), 'HTTP, redirected to HTTPS');
    acknowledge(
      albSg,
      'EC23',
      'The public load balancer: clients anywhere, 443 and the 80 → 443 redirect only.',
    );
    appSg.addIngressRule(albSg, ec2.Port.tcp(APP_PORT), 'load balancer to app');
    nodeSg.addIngressRule(appSg, ec2.Port.tcp(NODE_PORT), 'app to cache nodes');
    nodeSg.addIngressRule(nodeSg, ec2.Port.tcp(NODE_PORT), 'node to node region transfers');
    dbSg.addIngressRule(appSg, ec2.Port.tcp(DB_PORT), 'app to MySQL');
    network.allowEndpointsFrom([appSg, nodeSg]);

    // ── data ───────────────────────────────────────────────────────────────────────────────
    // Load balancer and S3 access logs (SSE-S3: the only encryption ALB log delivery supports).
    const logsBucket = new s3.Bucket(this, 'AccessLogs', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    if (!props.vpcId) {
      // Rejected traffic only: what an investigation needs, at a fraction of all-traffic logs.
      (vpc as ec2.Vpc).addFlowLog('RejectedTraffic', {
        destination: ec2.FlowLogDestination.toS3(logsBucket, 'vpc-flow-logs/'),
        trafficType: ec2.FlowLogTrafficType.REJECT,
      });
    } else {
      acknowledge(this, 'VPC7', 'A looked-up VPC keeps the flow logs its owner configured.');
    }
    const bucket = new s3.Bucket(this, 'Images', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      serverAccessLogsBucket: logsBucket,
      serverAccessLogsPrefix: 'images/',
      removalPolicy: RemovalPolicy.RETAIN, // images outlive the stack unless deleted on purpose
    });
    const dbParameters = new rds.ParameterGroup(this, 'DatabaseParameters', {
      engine: rds.DatabaseInstanceEngine.mysql({ version: rds.MysqlEngineVersion.VER_8_4_10 }),
      // MySQL 8 on RDS stores this boolean as 0/1; 'ON' is refused at deploy.
      parameters: { require_secure_transport: '1' },
    });
    const database = new rds.DatabaseInstance(this, 'Database', {
      engine: rds.DatabaseInstanceEngine.mysql({ version: rds.MysqlEngineVersion.VER_8_4_10 }),
      instanceType: new ec2.InstanceType(props.dbInstanceType),
      vpc,
      vpcSubnets: { subnets: privateSubnets.subnets },
      securityGroups: [dbSg],
      parameterGroup: dbParameters,
      databaseName: DB_NAME,
      credentials: rds.Credentials.fromGeneratedSecret(DB_USER, {
        excludeCharacters: DB_PASSWORD_EXCLUDED,
      }),
      storageEncrypted: true,
      allocatedStorage: 20,
      maxAllocatedStorage: 100,
      backupRetention: Duration.days(7),
      deletionProtection: true,
      removalPolicy: RemovalPolicy.SNAPSHOT,
    });
    // The app's own user (install-app.sh creates it with the master's credentials, grant-db-user.js);
    // attached to the instance, so the secret carries host, port and database like the master's.
    const appDbUser = new rds.DatabaseSecret(this, 'DatabaseAppUser', {
      username: DB_APP_USER,
      dbname: DB_NAME,
      masterSecret: database.secret,
      excludeCharacters: DB_PASSWORD_EXCLUDED,
    }).attach(database);
    acknowledge(
      database,
      'RDS3',
      'Single-AZ by default for cost: the key table is backed up daily (7 days) and can be restored from a snapshot; use Multi-AZ (docs/deploy-aws.md) when minutes of write downtime matter.',
    );
    acknowledge(
      database,
      'RDS11',
      'The default port is reachable only from the app security group; another port hides nothing from it.',
    );
    acknowledge(
      this,
      'SMG4',
      'No scheduled rotation: the app reads its secrets when it installs and nodes at every boot, so a rotation is followed by an instance refresh and a node restart (docs/operations.md, "Rotating secrets")',
    );
    const token = (id: string, description: string): secretsmanager.Secret =>
      new secretsmanager.Secret(this, id, {
        description,
        generateSecretString: { passwordLength: 48, excludePunctuation: true },
      });
    const nodeSecret = token(
      'NodeSecret',
      'pixpool: shared secret between the app and its cache nodes',
    );
    const adminToken = token(
      'AdminToken',
      'pixpool: Bearer token of the manager and notify endpoints',
    );

    const artifacts = new s3assets.Asset(this, 'Artifacts', { path: props.artifactsDir });
    const artifactsUrl = new ssm.StringParameter(this, 'ArtifactsUrl', {
      parameterName: `/${this.stackName}/artifacts-url`,
      description: 'pixpool: where instances fetch the current artifacts (set by each deploy)',
      stringValue: artifacts.s3ObjectUrl,
    });
    const userData = (
      script: 'install-node.sh' | 'install-app.sh',
      env: Record<string, string>,
      args: string[] = [],
    ): ec2.UserData => installUserData(artifactsUrl.parameterName, this.region, script, env, args);
    // The artifact object only: the CDK assets bucket holds every stack's code.
    const readArtifacts = (role: iam.IRole): void => {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'ReadInstallArtifacts',
          actions: ['s3:GetObject'],
          resources: [
            `arn:${this.partition}:s3:::${artifacts.s3BucketName}/${artifacts.s3ObjectKey}`,
          ],
        }),
      );
      artifactsUrl.grantRead(role);
    };
    // Journal (through rsyslog) and cloud-init output, shipped by the CloudWatch agent.
    const logGroup = (id: string, role: string): logs.LogGroup =>
      new logs.LogGroup(this, id, {
        logGroupName: `/pixpool/${this.stackName}/${role}`,
        retention: (props.logRetentionDays ?? 30) as logs.RetentionDays,
        removalPolicy: RemovalPolicy.DESTROY,
      });
    // Shell access is Session Manager's (no SSH key, no port 22).
    const instanceRole = (id: string, description: string): iam.Role =>
      new iam.Role(this, id, {
        assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
        description,
        managedPolicies: [
          iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore'),
        ],
      });
    const poolTagValue = this.stackName;
    acknowledge(
      this,
      'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
      'AmazonSSMManagedInstanceCore: what Session Manager (instead of SSH) needs, kept current by AWS.',
    );

    // ── cache nodes ────────────────────────────────────────────────────────────────────────
    // Nodes read their secret and the artifacts (and where those are); nothing else.
    const nodeRole = instanceRole(
      'NodeRole',
      'pixpool cache node: reads the node secret and the install artifacts, writes its logs',
    );
    nodeSecret.grantRead(nodeRole);
    readArtifacts(nodeRole);
    const nodeLogs = logGroup('NodeLogs', 'cache-node');
    nodeLogs.grantWrite(nodeRole);
    const nodeEnv = {
      PIXPOOL_LOG_GROUP: nodeLogs.logGroupName,
      PIXPOOL_NODE_SECRET_ID: nodeSecret.secretArn,
      PIXPOOL_NODE_PORT: String(NODE_PORT),
      PIXPOOL_NODE_CAPACITY_MB: String(props.nodeCapacityMb),
    };
    const nodeTemplate = new ec2.LaunchTemplate(this, 'NodeTemplate', {
      launchTemplateName: `${this.stackName}-cache-node`,
      instanceType: new ec2.InstanceType(props.nodeInstanceType),
      machineImage: imageFor(props.nodeInstanceType),
      blockDevices: encryptedRoot(8),
      role: nodeRole,
      userData: userData('install-node.sh', nodeEnv),
      requireImdsv2: true,
      instanceInitiatedShutdownBehavior: ec2.InstanceInitiatedShutdownBehavior.STOP,
    });
    // Instances the app launches from the template land in a private subnet with the node group
    // (an L2 launch template cannot name a subnet, hence the override).
    (nodeTemplate.node.defaultChild as ec2.CfnLaunchTemplate).addPropertyOverride(
      'LaunchTemplateData.NetworkInterfaces',
      [{ DeviceIndex: 0, SubnetId: privateSubnets.subnetIds[0], Groups: [nodeSg.securityGroupId] }],
    );
    Tags.of(nodeTemplate).add(POOL_TAG_KEY, poolTagValue);

    // Pre-provisioned nodes install themselves on first boot, then power off (install-node.sh
    // --stop-after-install): the EC2 provider starts stopped pool instances first, and a started
    // instance refreshes its artifacts, then starts the node (pixpool-node-refresh.service). See
    // docs/deploy-aws.md for why not a custom resource. They stay on the template's first version:
    // following the latest one would replace them (and lose the cache) whenever the AMI parameter
    // moves; they pick up new artifacts at every start anyway. They are created only once the
    // private subnets can reach AWS (the NAT's route, or the endpoints), so their first fetches
    // find a way.
    const nodes: ec2.CfnInstance[] = [];
    const acknowledgeNode = (node: ec2.CfnInstance): void => {
      acknowledge(
        node,
        'EC28',
        'Nodes are stopped most of the time; the free 5-minute metrics and the 1-minute status checks are enough.',
      );
      acknowledge(
        node,
        'EC29',
        'Cache nodes hold nothing that is not in S3: terminating one loses cached copies only, and teardown must be able to.',
      );
    };
    for (let i = 0; i < props.preProvisionedNodes; i++) {
      const subnetId = privateSubnets.subnetIds[i % privateSubnets.subnetIds.length];
      const node = new ec2.CfnInstance(this, `Node${i + 1}`, {
        launchTemplate: { launchTemplateId: nodeTemplate.launchTemplateId, version: '1' },
        networkInterfaces: [{ deviceIndex: '0', subnetId, groupSet: [nodeSg.securityGroupId] }],
        userData: Fn.base64(
          userData('install-node.sh', nodeEnv, ['--stop-after-install']).render(),
        ),
        tags: [
          { key: POOL_TAG_KEY, value: poolTagValue },
          { key: 'Name', value: `${this.stackName}-cache-node-${i + 1}` },
        ],
      });
      node.node.addDependency(nodeTemplate, network.awsReachable);
      nodes.push(node);
      acknowledgeNode(node);
    }

    // ── app ────────────────────────────────────────────────────────────────────────────────
    const appRole = instanceRole(
      'AppRole',
      'pixpool app: EC2 pool provider, CloudWatch metrics, S3 images, its secrets and logs',
    );
    grantAppPermissions({
      role: appRole,
      nodeRole,
      nodeTemplate,
      nodeSecurityGroup: nodeSg,
      nodeInstanceType: props.nodeInstanceType,
      vpc,
      bucket,
      poolTagValue,
    });
    for (const secret of [database.secret!, appDbUser, nodeSecret, adminToken])
      secret.grantRead(appRole);
    readArtifacts(appRole);
    const appLogs = logGroup('AppLogs', 'app');
    appLogs.grantWrite(appRole);
    // Readiness is health-checked by a target group of its own that the listener only forwards
    // to for a host name nobody uses: its UnHealthyHostCount is the readiness alarm, and it never
    // makes the group replace an instance that still serves cached images. Each app instance
    // registers itself (install-app.sh); terminated ones are deregistered by the load balancer.
    const readinessTargets = new elbv2.ApplicationTargetGroup(this, 'AppReadiness', {
      vpc,
      port: APP_PORT,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.INSTANCE,
      healthCheck: {
        path: APP_READINESS_PATH,
        healthyHttpCodes: '200',
        interval: Duration.seconds(30),
      },
    });
    appRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'RegisterForReadinessChecks',
        actions: ['elasticloadbalancing:RegisterTargets'],
        resources: [readinessTargets.targetGroupArn],
      }),
    );
    const appUserData = userData('install-app.sh', {
      PIXPOOL_LOG_GROUP: appLogs.logGroupName,
      PIXPOOL_READINESS_TARGET_GROUP: readinessTargets.targetGroupArn,
      PIXPOOL_VPC_ID: vpc.vpcId,
      PIXPOOL_LAUNCH_TEMPLATE_VERSION: nodeTemplate.latestVersionNumber,
      PIXPOOL_BUCKET: bucket.bucketName,
      PIXPOOL_DB_SECRET_ID: appDbUser.secretArn,
      PIXPOOL_DB_MASTER_SECRET_ID: database.secret!.secretArn,
      PIXPOOL_NODE_SECRET_ID: nodeSecret.secretArn,
      PIXPOOL_ADMIN_SECRET_ID: adminToken.secretArn,
      PIXPOOL_POOL_TAG: `${POOL_TAG_KEY}=${poolTagValue}`,
      PIXPOOL_LAUNCH_TEMPLATE: `${this.stackName}-cache-node`,
      PIXPOOL_METRICS_NAMESPACE: METRICS_NAMESPACE,
      PIXPOOL_CACHE_CAPACITY_MB: String(props.nodeCapacityMb),
      PIXPOOL_ALLOWED_HOSTS: publicHostNames.valueAsString,
      // The load balancer connects from inside the VPC; its X-Forwarded-For names the client.
      PIXPOOL_TRUST_PROXY: vpc.vpcCidrBlock,
    });
    const alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'pixpool alarms',
      enforceSSL: true,
    });
    // One app instance; an update launches the new one first (max 2) and terminates the old one
    // only once the new one signalled ready (install-app.sh waits for /health/ready), so a broken
    // app fails the deploy instead of replacing a working one.
    const app = new autoscaling.AutoScalingGroup(this, 'App', {
      vpc,
      vpcSubnets: { subnets: privateSubnets.subnets },
      instanceType: new ec2.InstanceType(props.appInstanceType),
      machineImage: imageFor(props.appInstanceType),
      blockDevices: [
        {
          deviceName: '/dev/xvda',
          volume: autoscaling.BlockDeviceVolume.ebs(16, {
            encrypted: true,
            volumeType: autoscaling.EbsDeviceVolumeType.GP3,
          }),
        },
      ],
      role: appRole,
      securityGroup: appSg,
      minCapacity: 1,
      maxCapacity: 2,
      requireImdsv2: true,
      userData: appUserData,
      healthChecks: autoscaling.HealthChecks.withAdditionalChecks({
        additionalTypes: [autoscaling.AdditionalHealthCheckType.ELB],
        gracePeriod: Duration.minutes(10), // first boot installs Node and the app
      }),
      signals: autoscaling.Signals.waitForMinCapacity({ timeout: Duration.minutes(20) }),
      updatePolicy: autoscaling.UpdatePolicy.rollingUpdate({
        maxBatchSize: 1,
        minInstancesInService: 1,
        waitOnResourceSignals: true,
        pauseTime: Duration.minutes(20),
      }),
      notifications: [{ topic: alarmTopic }],
    });
    appUserData.addSignalOnExitCommand(app);
    // Created after the database and the nodes, so deleted before them: the app never replaces a
    // node CloudFormation is deleting, nor launches into a security group being deleted.
    app.node.addDependency(database, ...nodes);
    // Without a NAT the endpoints must exist before its first boot (creating them takes longer
    // than its retries wait).
    if (!network.nat) app.node.addDependency(network.awsReachable);

    const loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc,
      internetFacing: true,
      securityGroup: albSg,
      dropInvalidHeaderFields: true,
    });
    this.logAccessLogs(loadBalancer, logsBucket, 'load-balancer');
    loadBalancer.addRedirect({ sourcePort: 80, targetPort: 443, open: false });
    const listener = loadBalancer.addListener('Https', {
      port: 443,
      certificates: [elbv2.ListenerCertificate.fromArn(certificateArn.valueAsString)],
      sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
      open: false, // the ingress rule above is the only one
    });
    const appTargets = listener.addTargets('App', {
      port: APP_PORT,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targets: [app],
      healthCheck: {
        path: APP_LIVENESS_PATH,
        healthyHttpCodes: '200',
        interval: Duration.seconds(15),
      },
      // Longer than a graceful shutdown of the app needs to drain.
      deregistrationDelay: Duration.seconds(60),
    });
    listener.addTargetGroups('ReadinessProbe', {
      targetGroups: [readinessTargets],
      priority: 10,
      conditions: [elbv2.ListenerCondition.hostHeaders(['readiness-probe.invalid'])],
    });

    // ── monitoring ─────────────────────────────────────────────────────────────────────────
    if (props.alarmEmail)
      alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    new Monitoring(this, 'Monitoring', {
      loadBalancer,
      alarmTopic,
      appTargets,
      readinessTargets,
      database,
      dbInstanceType: props.dbInstanceType,
      appGroupName: app.autoScalingGroupName,
      appInstanceType: props.appInstanceType,
      nodeInstanceIds: nodes.map((node) => node.ref),
    });
    this.budget(alarmTopic, props.monthlyBudgetUsd ?? 200);

    new CfnOutput(this, 'Url', { value: `https://${loadBalancer.loadBalancerDnsName}` });
    new CfnOutput(this, 'BucketName', { value: bucket.bucketName });
    new CfnOutput(this, 'DatabaseEndpoint', { value: database.dbInstanceEndpointAddress });
    new CfnOutput(this, 'AdminTokenSecret', { value: adminToken.secretArn });
    new CfnOutput(this, 'NodeLaunchTemplate', { value: `${this.stackName}-cache-node` });
    new CfnOutput(this, 'AlarmTopicArn', { value: alarmTopic.topicArn });
    new CfnOutput(this, 'AppGroupName', { value: app.autoScalingGroupName });
  }

  /**
   * ALB access logs into the logs bucket. logAccessLogs() needs the region at synth time; this
   * stack is region-agnostic, so the regional ELB account comes from CDK's region table (a
   * mapping), and regions without one deliver as the log-delivery service principal.
   */
  private logAccessLogs(
    loadBalancer: elbv2.ApplicationLoadBalancer,
    logsBucket: s3.Bucket,
    prefix: string,
  ): void {
    const objects = logsBucket.arnForObjects(`${prefix}/AWSLogs/${this.account}/*`);
    logsBucket.addToResourcePolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject'],
        principals: [
          new iam.ServicePrincipal('logdelivery.elasticloadbalancing.amazonaws.com'),
          new iam.AccountPrincipal(this.regionalFact(FactName.ELBV2_ACCOUNT, this.account)),
        ],
        resources: [objects],
      }),
    );
    loadBalancer.setAttribute('access_logs.s3.enabled', 'true');
    loadBalancer.setAttribute('access_logs.s3.bucket', logsBucket.bucketName);
    loadBalancer.setAttribute('access_logs.s3.prefix', prefix);
    // The load balancer checks it may write before it accepts the attributes.
    loadBalancer.node.addDependency(logsBucket);
  }

  /** The account's monthly cost: actual above 80 % and forecast above 100 % alarm the topic. */
  private budget(topic: sns.Topic, limitUsd: number): void {
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        actions: ['sns:Publish'],
        principals: [new iam.ServicePrincipal('budgets.amazonaws.com')],
        resources: [topic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
    );
    const notify = (notificationType: string, threshold: number) => ({
      notification: {
        notificationType,
        comparisonOperator: 'GREATER_THAN',
        threshold,
        thresholdType: 'PERCENTAGE',
      },
      subscribers: [{ subscriptionType: 'SNS', address: topic.topicArn }],
    });
    new budgets.CfnBudget(this, 'Budget', {
      budget: {
        budgetName: `${this.stackName}-monthly`,
        budgetType: 'COST',
        timeUnit: 'MONTHLY',
        budgetLimit: { amount: limitUsd, unit: 'USD' },
      },
      notificationsWithSubscribers: [notify('ACTUAL', 80), notify('FORECASTED', 100)],
    });
  }
}
