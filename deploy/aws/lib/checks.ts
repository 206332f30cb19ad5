import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { IConstruct } from 'constructs';

/**
 * The AwsSolutions rules of cdk-nag, run at every synth (.ci/run's `npm run check`): a finding
 * fails the synth unless the stack acknowledges it where the resource is made, with its reason.
 */
export function addPolicyChecks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
}

/** Accepts one AwsSolutions finding on `scope` (and below), for the reason given. */
export function acknowledge(scope: IConstruct, rule: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions::AwsSolutions-${rule}`, reason });
}
