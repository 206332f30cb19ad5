import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_PROPS, HERE, installed } from './synth';

/*
 * cdk-nag's AwsSolutions rules run at synth (bin/pixpool.ts, as `cdk synth` in .ci/run): the
 * stack passes them with its findings acknowledged in code, and an unacknowledged finding fails.
 */
(installed ? describe : describe.skip)('AwsSolutions checks at synth', () => {
  /* eslint-disable @typescript-eslint/no-require-imports -- loaded only when installed */
  const synthChecked = (spoil?: (stack: import('aws-cdk-lib').Stack) => void, nat = true): void => {
    const { App } = require('aws-cdk-lib') as typeof import('aws-cdk-lib');
    const { addPolicyChecks } = require('../lib/checks') as typeof import('../lib/checks');
    const { PixpoolStack } =
      require('../lib/pixpool-stack') as typeof import('../lib/pixpool-stack');
    /* eslint-enable @typescript-eslint/no-require-imports */
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixpool-nag-'));
    try {
      const artifactsDir = path.join(dir, 'artifacts');
      fs.mkdirSync(artifactsDir);
      fs.writeFileSync(path.join(artifactsDir, 'pixpool-node.js'), '// the bundle\n');
      const cdkJson = JSON.parse(fs.readFileSync(path.join(HERE, 'cdk.json'), 'utf8')) as {
        context: Record<string, unknown>;
      };
      const app = new App({ context: cdkJson.context, outdir: path.join(dir, 'cdk.out') });
      const stack = new PixpoolStack(app, 'Test', { ...DEFAULT_PROPS, artifactsDir, nat });
      spoil?.(stack);
      addPolicyChecks(app);
      app.synth();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };

  it('the stack passes with its acknowledged findings', () => {
    expect(() => synthChecked()).not.toThrow();
  }, 120_000);

  it('the stack without a NAT gateway (nat=false: interface endpoints) passes too', () => {
    expect(() => synthChecked(undefined, false)).not.toThrow();
  }, 120_000);

  it('an unacknowledged finding fails the synth (the check can fail)', () => {
    const { aws_sqs: sqs } = require('aws-cdk-lib') as typeof import('aws-cdk-lib'); // eslint-disable-line @typescript-eslint/no-require-imports
    // A queue without a dead-letter queue or TLS-only policy: AwsSolutions-SQS3/SQS4.
    expect(() => synthChecked((stack) => new sqs.Queue(stack, 'Unchecked'))).toThrow(
      /AwsSolutions-SQS3/,
    );
  }, 120_000);
});
