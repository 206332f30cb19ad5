import { Stack } from 'aws-cdk-lib';
import { acknowledge } from './checks';
import { ec2, iam, s3 } from './cdk';
import { METRICS_NAMESPACE, POOL_TAG_KEY } from './settings';

export interface AppPermissionsProps {
  role: iam.IRole;
  nodeRole: iam.IRole;
  nodeTemplate: ec2.LaunchTemplate;
  nodeSecurityGroup: ec2.ISecurityGroup;
  nodeInstanceType: string;
  vpc: ec2.IVpc;
  bucket: s3.IBucket;
  /** The stack-unique pool tag's value. */
  poolTagValue: string;
}

/**
 * What the app's EC2 provider, CloudWatch sink/source and S3 blob store call, and nothing more.
 * Resource-level scoping wherever the service supports it; "*" only for the actions that have no
 * resource type (DescribeInstances, GetMetricData) and for PutMetricData, which is scoped by its
 * namespace condition instead.
 */
export function grantAppPermissions(props: AppPermissionsProps): void {
  const { role, nodeRole, nodeTemplate, nodeSecurityGroup, nodeInstanceType, vpc, bucket } = props;
  const stack = Stack.of(role);
  const ec2Arn = (resource: string, account = stack.account): string =>
    stack.formatArn({ service: 'ec2', resource, resourceName: '*', account });
  const instances = ec2Arn('instance');
  const poolTagged = { [`aws:ResourceTag/${POOL_TAG_KEY}`]: props.poolTagValue };
  // Only the node template, and nothing a request could override in it: a compromised app could
  // otherwise launch any image, type or user-data with the node role.
  const fromNodeTemplate = {
    'ec2:LaunchTemplate': stack.formatArn({
      service: 'ec2',
      resource: 'launch-template',
      resourceName: nodeTemplate.launchTemplateId,
    }),
  };

  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'StartStopPoolNodes',
      actions: ['ec2:StartInstances', 'ec2:StopInstances'],
      resources: [instances],
      conditions: { StringEquals: poolTagged },
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ListInstances',
      actions: ['ec2:DescribeInstances'], // no resource-level permissions exist for Describe*
      resources: ['*'],
    }),
  );
  // RunInstances authorises every resource it touches: the new instance must carry the pool tag
  // and the node type, from the node launch template; everything else it uses must come from that
  // template, in this VPC.
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'LaunchTaggedNodes',
      actions: ['ec2:RunInstances'],
      resources: [instances],
      conditions: {
        StringEquals: {
          [`aws:RequestTag/${POOL_TAG_KEY}`]: props.poolTagValue,
          'ec2:InstanceType': nodeInstanceType,
        },
        ArnEquals: fromNodeTemplate,
      },
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'LaunchFromNodeTemplate',
      actions: ['ec2:RunInstances'],
      resources: [
        stack.formatArn({
          service: 'ec2',
          resource: 'launch-template',
          resourceName: nodeTemplate.launchTemplateId,
        }),
        stack.formatArn({
          service: 'ec2',
          resource: 'security-group',
          resourceName: nodeSecurityGroup.securityGroupId,
        }),
        ec2Arn('volume'),
        ec2Arn('network-interface'),
        ec2Arn('subnet'),
        // Public images belong to no account of ours: the AMI ARN has an empty account field.
        ec2Arn('image', ''),
      ],
      conditions: {
        ArnEquals: fromNodeTemplate,
        Bool: { 'ec2:IsLaunchTemplateResource': 'true' },
        ArnEqualsIfExists: {
          'ec2:Vpc': stack.formatArn({ service: 'ec2', resource: 'vpc', resourceName: vpc.vpcId }),
        },
      },
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'TagOnLaunchOnly',
      actions: ['ec2:CreateTags'],
      resources: [instances, ec2Arn('volume'), ec2Arn('network-interface')],
      conditions: { StringEquals: { 'ec2:CreateAction': 'RunInstances' } },
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'PassNodeRoleToEc2',
      actions: ['iam:PassRole'],
      resources: [nodeRole.roleArn],
      conditions: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'PublishPoolMetrics',
      actions: ['cloudwatch:PutMetricData'],
      resources: ['*'], // PutMetricData has no resource type; the namespace condition scopes it
      conditions: { StringEquals: { 'cloudwatch:namespace': METRICS_NAMESPACE } },
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ReadPoolMetrics',
      actions: ['cloudwatch:GetMetricData'], // no resource-level permissions exist
      resources: ['*'],
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ImageObjects',
      actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
      resources: [bucket.arnForObjects('*')],
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ImageBucket', // HeadBucket (health) and ListObjectsV2 (delete all)
      actions: ['s3:ListBucket'],
      resources: [bucket.bucketArn],
    }),
  );
  // Each wildcard IAM5 finds, with why nothing narrower exists.
  const ec2Resource = (type: string, account = ':<AWS::AccountId>'): string =>
    `IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>${account}:${type}/*]`;
  const bucketId = stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket);
  const wildcards: [string, string][] = [
    [
      'IAM5[Resource::*]',
      'DescribeInstances and GetMetricData have no resource type; PutMetricData is narrowed by its namespace condition.',
    ],
    [
      ec2Resource('instance'),
      'Instance ids are not known before launch or start: narrowed by the pool tag (and for RunInstances the launch template and instance type).',
    ],
    [
      ec2Resource('volume'),
      'Volumes of an instance being launched: only from the node launch template, and tagged only at launch.',
    ],
    [
      ec2Resource('network-interface'),
      'Interfaces of an instance being launched: only from the node launch template, in this VPC.',
    ],
    [
      ec2Resource('subnet'),
      "The template's subnet: only as a launch-template resource, in this VPC.",
    ],
    [
      ec2Resource('image', ':'),
      "The template's public Amazon Linux image (no account in its ARN): only as a launch-template resource.",
    ],
    [
      `IAM5[Resource::<${bucketId}.Arn>/*]`,
      'Image objects have random names: every object of the images bucket, nothing else.',
    ],
  ];
  for (const [finding, reason] of wildcards) acknowledge(role, finding, reason);
}
