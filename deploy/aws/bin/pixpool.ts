import { App } from 'aws-cdk-lib';
import * as path from 'node:path';
import { addPolicyChecks } from '../lib/checks';
import { PixpoolStack } from '../lib/pixpool-stack';

/*
 * `npx cdk deploy -c ...` (docs/deploy-aws.md). Settings come from CDK context (cdk.json holds
 * the defaults, `-c name=value` overrides); the certificate is a CloudFormation parameter:
 * `--parameters CertificateArn=arn:aws:acm:...`.
 */
const app = new App();
const context = (name: string): string | undefined => {
  const value: unknown = app.node.tryGetContext(name);
  return value === undefined || value === '' ? undefined : String(value);
};
const vpcId = context('vpcId');
new PixpoolStack(app, context('stackName') ?? 'Pixpool', {
  // A VPC lookup needs the account and region at synth time; a new VPC does not.
  env: vpcId
    ? { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION }
    : undefined,
  artifactsDir: path.resolve(
    __dirname,
    '..',
    context('artifactsDir') ?? path.join('..', '..', 'dist', 'artifacts'),
  ),
  vpcId,
  // -c nat=false: no NAT gateway; isolated private subnets with interface endpoints.
  nat: context('nat') !== 'false',
  preProvisionedNodes: Number(context('preProvisionedNodes') ?? 8),
  appInstanceType: context('appInstanceType') ?? 't3.small',
  nodeInstanceType: context('nodeInstanceType') ?? 't3.small',
  nodeCapacityMb: Number(context('nodeCapacityMb') ?? 1024),
  dbInstanceType: context('dbInstanceType') ?? 't4g.micro',
  alarmEmail: context('alarmEmail'),
  logRetentionDays: Number(context('logRetentionDays') ?? 30),
  monthlyBudgetUsd: Number(context('monthlyBudgetUsd') ?? 200),
});
addPolicyChecks(app);
