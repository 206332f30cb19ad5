import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Template as TemplateType } from 'aws-cdk-lib/assertions';
import type { PixpoolStackProps } from '../lib/pixpool-stack';

/*
 * Synthesizes the stack the way `cdk synth` does (cdk.json's feature flags and defaults) into a
 * Template, for the stack specs. aws-cdk-lib comes from deploy/aws's own node_modules (`npm ci
 * --prefix deploy/aws`); without them the specs are skipped with a warning, except under CI=true,
 * where they fail.
 */
export const HERE = path.resolve(__dirname, '..');
export const ROOT = path.resolve(HERE, '..', '..');
export const installed = fs.existsSync(path.join(HERE, 'node_modules', 'aws-cdk-lib'));
if (!installed && process.env.CI === 'true') throw new Error('deploy/aws: run npm ci there first');
if (!installed) console.warn('deploy/aws has no node_modules: skipping the stack tests');

export type Json = Record<string, unknown>;
export interface Synthesized {
  template: TemplateType;
  resources: Record<string, { Type: string; Properties?: Json; DependsOn?: string[] } & Json>;
  ofType(type: string): [string, Json][];
}

export const DEFAULT_PROPS: Omit<PixpoolStackProps, 'artifactsDir'> = {
  preProvisionedNodes: 3,
  appInstanceType: 't3.small',
  nodeInstanceType: 't3.small',
  nodeCapacityMb: 1024,
  dbInstanceType: 't4g.micro',
};

/** A stack named `Test` from fake artifacts; `context` adds to or overrides cdk.json's. */
export function synth(
  props: Partial<PixpoolStackProps> = {},
  context: Record<string, unknown> = {},
): Synthesized {
  /* eslint-disable @typescript-eslint/no-require-imports -- loaded only when installed */
  const { App } = require('aws-cdk-lib') as typeof import('aws-cdk-lib');
  const { Template } = require('aws-cdk-lib/assertions') as typeof import('aws-cdk-lib/assertions');
  const { PixpoolStack } = require('../lib/pixpool-stack') as typeof import('../lib/pixpool-stack');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const artifactsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixpool-artifacts-'));
  try {
    fs.writeFileSync(path.join(artifactsDir, 'pixpool-node.js'), '// the bundle\n');
    const cdkJson = JSON.parse(fs.readFileSync(path.join(HERE, 'cdk.json'), 'utf8')) as {
      context: Record<string, unknown>;
    };
    const app = new App({ context: { ...cdkJson.context, ...context } });
    const stack = new PixpoolStack(app, 'Test', { ...DEFAULT_PROPS, artifactsDir, ...props });
    const template = Template.fromStack(stack);
    const resources = template.toJSON().Resources as Synthesized['resources'];
    const ofType = (type: string): [string, Json][] =>
      Object.entries(resources)
        .filter(([, r]) => r.Type === type)
        .map(([id, r]) => [id, r.Properties ?? {}]);
    return { template, resources, ofType };
  } finally {
    fs.rmSync(artifactsDir, { recursive: true, force: true });
  }
}
