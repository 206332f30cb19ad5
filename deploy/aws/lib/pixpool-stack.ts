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
import { Construct } from 'constructs';
import * as fs from 'node:fs';
import { grantAppPermissions } from './app-permissions';
import {
  autoscaling,
  ec2,
  elbv2,
  iam,
  rds,
  s3,
  s3assets,
  secretsmanager,
  sns,
  ssm,
  subscriptions,
} from './cdk';
import { Monitoring } from './monitoring';
import {
  APP_PORT,
  APP_READINESS_PATH,
  DB_NAME,
  DB_PORT,
  DB_USER,
  METRICS_NAMESPACE,
  NODE_PORT,
  POOL_TAG,
} from './settings';
import { installUserData } from './user-data';

export interface PixpoolStackProps extends StackProps {
  /** dist/artifacts, made by deploy/scripts/build-artifacts.sh. */
  artifactsDir: string;
  /** Deploy into this VPC (needs its private subnets with a route out) instead of a new one. */
  vpcId?: string;
  /** Cache-node instances created once and left stopped for the EC2 provider to start (0..8). */
  preProvisionedNodes: number;
  appInstanceType: string;
  nodeInstanceType: string;
  /** Cache capacity per node; leave room for Node itself (~150 MB) on the instance. */
  nodeCapacityMb: number;
  dbInstanceType: string;
  /** Where alarms are mailed; without it subscribe to the AlarmTopic output yourself. */
  alarmEmail?: string;
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
    const vpc = props.vpcId
      ? ec2.Vpc.fromLookup(this, 'Vpc', { vpcId: props.vpcId })
      : new ec2.Vpc(this, 'Vpc', {
          maxAzs: 2,
          natGateways: 1, // instances fetch packages and reach AWS APIs through it
          subnetConfiguration: [
            { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
            { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
          ],
        });
    const privateSubnets = vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS });

    // Exactly: internet → ALB 443, ALB → app 5000, app → node 5001, node → node 5001 (region
    // transfers), app → RDS 3306. Outbound stays open (package installs, AWS APIs via the NAT).
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
    appSg.addIngressRule(albSg, ec2.Port.tcp(APP_PORT), 'load balancer to app');
    nodeSg.addIngressRule(appSg, ec2.Port.tcp(NODE_PORT), 'app to cache nodes');
    nodeSg.addIngressRule(nodeSg, ec2.Port.tcp(NODE_PORT), 'node to node region transfers');
    dbSg.addIngressRule(appSg, ec2.Port.tcp(DB_PORT), 'app to MySQL');

    // ── data ───────────────────────────────────────────────────────────────────────────────
    const bucket = new s3.Bucket(this, 'Images', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.RETAIN, // images outlive the stack unless deleted on purpose
    });
    const dbParameters = new rds.ParameterGroup(this, 'DatabaseParameters', {
      engine: rds.DatabaseInstanceEngine.mysql({ version: rds.MysqlEngineVersion.VER_8_4_10 }),
      parameters: { require_secure_transport: 'ON' },
    });
    const database = new rds.DatabaseInstance(this, 'Database', {
      engine: rds.DatabaseInstanceEngine.mysql({ version: rds.MysqlEngineVersion.VER_8_4_10 }),
      instanceType: new ec2.InstanceType(props.dbInstanceType),
      vpc,
      vpcSubnets: { subnets: privateSubnets.subnets },
      securityGroups: [dbSg],
      parameterGroup: dbParameters,
      databaseName: DB_NAME,
      // Characters that need quoting in a systemd EnvironmentFile or a URL are left out.
      credentials: rds.Credentials.fromGeneratedSecret(DB_USER, {
        excludeCharacters: ' %+~`#$&*()|[]{}:;<>?!\'/@"\\=^,.',
      }),
      storageEncrypted: true,
      allocatedStorage: 20,
      maxAllocatedStorage: 100,
      backupRetention: Duration.days(7),
      deletionProtection: true,
      removalPolicy: RemovalPolicy.SNAPSHOT,
    });
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
    const image = ec2.MachineImage.latestAmazonLinux2023();

    // ── cache nodes ────────────────────────────────────────────────────────────────────────
    // Nodes read their secret and the artifacts (and where those are); nothing else.
    const nodeRole = new iam.Role(this, 'NodeRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'pixpool cache node: reads the node secret and the install artifacts',
    });
    nodeSecret.grantRead(nodeRole);
    artifacts.grantRead(nodeRole);
    artifactsUrl.grantRead(nodeRole);
    const nodeEnv = {
      PIXPOOL_NODE_SECRET_ID: nodeSecret.secretArn,
      PIXPOOL_NODE_PORT: String(NODE_PORT),
      PIXPOOL_NODE_CAPACITY_MB: String(props.nodeCapacityMb),
    };
    const nodeTemplate = new ec2.LaunchTemplate(this, 'NodeTemplate', {
      launchTemplateName: `${this.stackName}-cache-node`,
      instanceType: new ec2.InstanceType(props.nodeInstanceType),
      machineImage: image,
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
    Tags.of(nodeTemplate).add(POOL_TAG.key, POOL_TAG.value);

    // Pre-provisioned nodes install themselves on first boot, then power off (install-node.sh
    // --stop-after-install): the EC2 provider starts stopped pool instances first, and a started
    // instance boots straight into the enabled unit. See docs/deploy-aws.md for why not a
    // custom resource.
    for (let i = 0; i < props.preProvisionedNodes; i++) {
      const subnetId = privateSubnets.subnetIds[i % privateSubnets.subnetIds.length];
      const node = new ec2.CfnInstance(this, `Node${i + 1}`, {
        launchTemplate: {
          launchTemplateId: nodeTemplate.launchTemplateId,
          version: nodeTemplate.latestVersionNumber,
        },
        networkInterfaces: [{ deviceIndex: '0', subnetId, groupSet: [nodeSg.securityGroupId] }],
        userData: Fn.base64(
          userData('install-node.sh', nodeEnv, ['--stop-after-install']).render(),
        ),
        tags: [
          { key: POOL_TAG.key, value: POOL_TAG.value },
          { key: 'Name', value: `${this.stackName}-cache-node-${i + 1}` },
        ],
      });
      node.node.addDependency(nodeTemplate);
    }

    // ── app ────────────────────────────────────────────────────────────────────────────────
    const appRole = new iam.Role(this, 'AppRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'pixpool app: EC2 pool provider, CloudWatch metrics, S3 images, its secrets',
    });
    grantAppPermissions({
      role: appRole,
      nodeRole,
      nodeTemplate,
      nodeSecurityGroup: nodeSg,
      vpc,
      bucket,
    });
    for (const secret of [database.secret!, nodeSecret, adminToken]) secret.grantRead(appRole);
    artifacts.grantRead(appRole);
    artifactsUrl.grantRead(appRole);
    const app = new autoscaling.AutoScalingGroup(this, 'App', {
      vpc,
      vpcSubnets: { subnets: privateSubnets.subnets },
      instanceType: new ec2.InstanceType(props.appInstanceType),
      machineImage: image,
      role: appRole,
      securityGroup: appSg,
      minCapacity: 1,
      maxCapacity: 1,
      requireImdsv2: true,
      userData: userData('install-app.sh', {
        PIXPOOL_BUCKET: bucket.bucketName,
        PIXPOOL_DB_SECRET_ID: database.secret!.secretArn,
        PIXPOOL_NODE_SECRET_ID: nodeSecret.secretArn,
        PIXPOOL_ADMIN_SECRET_ID: adminToken.secretArn,
        PIXPOOL_POOL_TAG: `${POOL_TAG.key}=${POOL_TAG.value}`,
        PIXPOOL_LAUNCH_TEMPLATE: `${this.stackName}-cache-node`,
        PIXPOOL_METRICS_NAMESPACE: METRICS_NAMESPACE,
        PIXPOOL_CACHE_CAPACITY_MB: String(props.nodeCapacityMb),
        PIXPOOL_ALLOWED_HOSTS: publicHostNames.valueAsString,
        // The load balancer connects from inside the VPC; its X-Forwarded-For names the client.
        PIXPOOL_TRUST_PROXY: vpc.vpcCidrBlock,
      }),
      healthChecks: autoscaling.HealthChecks.withAdditionalChecks({
        additionalTypes: [autoscaling.AdditionalHealthCheckType.ELB],
        gracePeriod: Duration.minutes(10), // first boot installs Node and the app's packages
      }),
    });
    app.node.addDependency(database);

    const loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc,
      internetFacing: true,
      securityGroup: albSg,
    });
    const listener = loadBalancer.addListener('Https', {
      port: 443,
      certificates: [elbv2.ListenerCertificate.fromArn(certificateArn.valueAsString)],
      sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
      open: false, // the ingress rule above is the only one
    });
    listener.addTargets('App', {
      port: APP_PORT,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targets: [app],
      healthCheck: {
        path: APP_READINESS_PATH,
        healthyHttpCodes: '200',
        interval: Duration.seconds(15),
      },
      // Longer than a graceful shutdown of the app needs to drain.
      deregistrationDelay: Duration.seconds(60),
    });

    // ── monitoring ─────────────────────────────────────────────────────────────────────────
    const alarmTopic = new sns.Topic(this, 'AlarmTopic', { displayName: 'pixpool alarms' });
    if (props.alarmEmail)
      alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    new Monitoring(this, 'Monitoring', { loadBalancer, alarmTopic });

    new CfnOutput(this, 'Url', { value: `https://${loadBalancer.loadBalancerDnsName}` });
    new CfnOutput(this, 'BucketName', { value: bucket.bucketName });
    new CfnOutput(this, 'DatabaseEndpoint', { value: database.dbInstanceEndpointAddress });
    new CfnOutput(this, 'AdminTokenSecret', { value: adminToken.secretArn });
    new CfnOutput(this, 'NodeLaunchTemplate', { value: `${this.stackName}-cache-node` });
    new CfnOutput(this, 'AlarmTopicArn', { value: alarmTopic.topicArn });
  }
}
