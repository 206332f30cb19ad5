import { Construct, DependencyGroup, IDependable } from 'constructs';
import { ec2 } from './cdk';

/*
 * The VPC and how its private subnets reach AWS. Instances need, besides S3 (images, artifacts,
 * the Amazon Linux repositories Node comes from: the free gateway endpoint, in both modes):
 *   - the app: EC2 (it launches, starts and stops cache nodes), CloudWatch (metrics), Elastic Load
 *     Balancing (install-app.sh registers the readiness target), CloudFormation (cfn-signal);
 *   - both: Secrets Manager (their secrets), SSM (the artifacts parameter; with SSM messages and
 *     EC2 messages, Session Manager shells), CloudWatch Logs (the agent).
 * With `nat` (the default) a NAT gateway carries those calls. Without it the private subnets are
 * isolated (no route to the internet at all) and each service gets an interface endpoint with
 * private DNS, so the SDKs' and the CLI's usual names resolve to it. Nothing else is reached: the
 * artifacts carry the app's node_modules (build-artifacts.sh), so no package registry is needed.
 * The endpoints sit in one availability zone, as the single NAT gateway does: the same
 * availability at half the hourly cost of two zones (docs/deploy-aws.md).
 */
export const INTERFACE_ENDPOINTS = {
  Ec2: ec2.InterfaceVpcEndpointAwsService.EC2,
  CloudWatch: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,
  CloudWatchLogs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
  SecretsManager: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
  ElasticLoadBalancing: ec2.InterfaceVpcEndpointAwsService.ELASTIC_LOAD_BALANCING,
  CloudFormation: ec2.InterfaceVpcEndpointAwsService.CLOUDFORMATION,
  Ssm: ec2.InterfaceVpcEndpointAwsService.SSM,
  SsmMessages: ec2.InterfaceVpcEndpointAwsService.SSM_MESSAGES,
  Ec2Messages: ec2.InterfaceVpcEndpointAwsService.EC2_MESSAGES,
};

export interface NetworkProps {
  /** Deploy into this VPC (its private subnets need a route out) instead of a new one. */
  vpcId?: string;
  /** A NAT gateway for the private subnets (true), or none and interface endpoints (false). */
  nat: boolean;
}

export class Network extends Construct {
  readonly vpc: ec2.IVpc;
  readonly privateSubnets: ec2.SelectedSubnets;
  /** Whether the private subnets reach out through a NAT gateway (else interface endpoints). */
  readonly nat: boolean;
  private readonly endpoints = new DependencyGroup();

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    this.nat = props.nat;
    if (props.vpcId && !props.nat) {
      throw new Error(
        'nat=false builds its own VPC: with vpcId, give that VPC a route out or the endpoints docs/deploy-aws.md lists',
      );
    }
    const privateType = props.nat
      ? ec2.SubnetType.PRIVATE_WITH_EGRESS
      : ec2.SubnetType.PRIVATE_ISOLATED;
    // Created in the stack's scope (not this construct's) so the template's logical ids stay
    // those of the stack before the network moved here: no replacement on update.
    this.vpc = props.vpcId
      ? ec2.Vpc.fromLookup(scope, 'Vpc', { vpcId: props.vpcId })
      : new ec2.Vpc(scope, 'Vpc', {
          maxAzs: 2,
          // With the NAT: AWS APIs through it. Without: the endpoints added by allowEndpointsFrom.
          natGateways: props.nat ? 1 : 0,
          subnetConfiguration: [
            { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
            { name: 'private', subnetType: privateType, cidrMask: 22 },
          ],
        });
    this.privateSubnets = this.vpc.selectSubnets({ subnetType: privateType });
    // S3 (images, artifacts, the Amazon Linux repositories) through the free gateway endpoint, not
    // the NAT's $0.045/GB. A looked-up VPC keeps the endpoints it has (docs/deploy-aws.md).
    if (!props.vpcId)
      this.vpc.addGatewayEndpoint('S3', { service: ec2.GatewayVpcEndpointAwsService.S3 });
  }

  /**
   * Without the NAT: the interface endpoints, reachable on 443 from `clients` only. With it:
   * nothing (the NAT carries the calls).
   */
  allowEndpointsFrom(clients: ec2.ISecurityGroup[]): void {
    if (this.nat) return;
    const sg = new ec2.SecurityGroup(this, 'EndpointSg', {
      vpc: this.vpc,
      description: 'pixpool interface endpoints: HTTPS from the app and the cache nodes',
      allowAllOutbound: false,
    });
    for (const client of clients)
      sg.addIngressRule(client, ec2.Port.tcp(443), 'instances to AWS APIs');
    const oneZone = { subnets: [this.privateSubnets.subnets[0]] };
    for (const [id, service] of Object.entries(INTERFACE_ENDPOINTS)) {
      this.endpoints.add(
        this.vpc.addInterfaceEndpoint(id, {
          service,
          subnets: oneZone,
          securityGroups: [sg],
          privateDnsEnabled: true,
          open: false,
        }),
      );
    }
  }

  /** What an instance's first boot needs in place: the route to the NAT, or the endpoints. */
  get awsReachable(): IDependable {
    return this.nat ? this.privateSubnets.internetConnectivityEstablished : this.endpoints;
  }
}
