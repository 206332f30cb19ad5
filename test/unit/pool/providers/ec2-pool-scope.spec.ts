import 'aws-sdk-client-mock-jest';
import {
  DescribeInstancesCommand,
  EC2Client,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import { Logger } from '@nestjs/common';
import { mockClient } from 'aws-sdk-client-mock';
import { loadConfig } from '../../../../src/config/config-loader';
import { Ec2NodeProvider } from '../../../../src/pool/providers/ec2-node.provider';
import { Ec2NodeProviderOptions } from '../../../../src/pool/providers/ec2-node-provider.options';
import { TypeOrmInstanceClaims } from '../../../../src/pool/providers/ec2-instance-claims';
import { createNodeProvider } from '../../../../src/pool/providers/node-provider.factory';
import { described, FakeClock, instance, openClaimsDatabase, TAG, TIMING } from './ec2-test-kit';

/*
 * What the AWS review asked of the provider (issue 20): the pool is the stack's tag inside the
 * stack's VPC; launched nodes come from the template version the stack names; an instance that
 * failed to become healthy is not tried first again on the next grow.
 */
describe('Ec2NodeProvider: pool scope, template version, failed instances', () => {
  const ec2Mock = mockClient(EC2Client);
  let db: Awaited<ReturnType<typeof openClaimsDatabase>>;
  let claims: TypeOrmInstanceClaims;
  let clock: FakeClock;
  const unhealthy = new Set<string>();
  const probe = async (url: string) => !unhealthy.has(url);
  const provider = (options: Partial<Ec2NodeProviderOptions>) =>
    new Ec2NodeProvider(
      { tag: TAG, ...TIMING, ...options },
      new EC2Client({}),
      probe,
      clock,
      claims,
    );
  /** Described by id (as a start polls it), the instance runs at `ip`. */
  const runsAt = (id: string, ip: string) =>
    ec2Mock
      .on(DescribeInstancesCommand, { InstanceIds: [id] })
      .resolves(described(instance(id, 'running', ip)));

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(async () => {
    db = await openClaimsDatabase();
    claims = new TypeOrmInstanceClaims(db.dataSource);
    clock = new FakeClock();
    unhealthy.clear();
    ec2Mock.reset();
  });
  afterEach(() => db.close());

  it('from config: describes only the tag inside pool.ec2.vpcId and launches pool.ec2.launchTemplateVersion', async () => {
    const config = loadConfig({
      env: {
        PIXPOOL_POOL_PROVIDER: 'ec2',
        PIXPOOL_SECURITY_NODE_SECRET: 'scope-node-secret-padded-to-32-characters',
        PIXPOOL_POOL_EC2_TAG: 'pixpool-pool=Prod',
        PIXPOOL_POOL_EC2_VPC_ID: 'vpc-0abc',
        PIXPOOL_POOL_EC2_LAUNCH_TEMPLATE: 'Prod-cache-node',
        PIXPOOL_POOL_EC2_LAUNCH_TEMPLATE_VERSION: '7',
        PIXPOOL_POOL_EC2_POLL_INTERVAL_MS: '200',
        PIXPOOL_POOL_EC2_START_TIMEOUT_MS: '1000',
        PIXPOOL_POOL_EC2_HEALTH_TIMEOUT_MS: '1000',
      },
    });
    const fromConfig = createNodeProvider(config, db.dataSource) as Ec2NodeProvider;
    ec2Mock.on(DescribeInstancesCommand).resolves(described());
    ec2Mock.on(RunInstancesCommand).resolves({ Instances: [{ InstanceId: 'i-new' }] });
    runsAt('i-new', '10.0.0.7');

    await fromConfig.start(1).catch(() => undefined); // the node at 10.0.0.7 does not exist here

    expect(ec2Mock.commandCalls(DescribeInstancesCommand)[0].args[0].input.Filters).toEqual([
      { Name: 'tag:pixpool-pool', Values: ['Prod'] },
      { Name: 'vpc-id', Values: ['vpc-0abc'] },
      { Name: 'instance-state-name', Values: ['running', 'stopping', 'stopped'] },
    ]);
    expect(ec2Mock).toHaveReceivedCommandWith(RunInstancesCommand, {
      LaunchTemplate: { LaunchTemplateName: 'Prod-cache-node', Version: '7' },
    });
  });

  it('refuses a malformed vpcId or template version at start-up', () => {
    const env = { PIXPOOL_POOL_PROVIDER: 'ec2', PIXPOOL_SECURITY_NODE_SECRET: 's'.repeat(32) };
    expect(() => loadConfig({ env: { ...env, PIXPOOL_POOL_EC2_VPC_ID: 'default' } })).toThrow(
      /vpcId/,
    );
    expect(() =>
      loadConfig({ env: { ...env, PIXPOOL_POOL_EC2_LAUNCH_TEMPLATE_VERSION: 'latest' } }),
    ).toThrow(/launchTemplateVersion/);
  });

  it('skips an instance that failed to become healthy on the next grow, and tries it again after failedRetryMs', async () => {
    const sut = provider({ failedRetryMs: 3_600_000 });
    // i-1 boots but its node never answers (an install cut short); i-2 is fine.
    ec2Mock
      .on(DescribeInstancesCommand)
      .resolves(described(instance('i-1', 'stopped'), instance('i-2', 'stopped')));
    runsAt('i-1', '10.0.0.1');
    runsAt('i-2', '10.0.0.2');
    ec2Mock.on(StartInstancesCommand).resolves({});
    ec2Mock.on(StopInstancesCommand).resolves({});
    unhealthy.add('http://10.0.0.1:5001');

    await expect(sut.start(1)).rejects.toThrow(/i-1 never answered/);
    const second = await sut.start(1);

    expect(second.map((node) => node.id)).toEqual(['i-2']);
    expect(ec2Mock.commandCalls(StartInstancesCommand).map((c) => c.args[0].input)).toEqual([
      { InstanceIds: ['i-1'] },
      { InstanceIds: ['i-2'] },
    ]);

    sut.adopt(['i-2']);
    clock.advance(3_600_000);
    unhealthy.clear();
    const third = await sut.start(1);
    expect(third.map((node) => node.id)).toEqual(['i-1']);
  });

  it('launches a replacement from the template when the only free instance failed', async () => {
    const sut = provider({ launchTemplate: { name: 'lt' } });
    ec2Mock.on(DescribeInstancesCommand).resolves(described(instance('i-1', 'stopped')));
    runsAt('i-1', '10.0.0.1');
    ec2Mock.on(RunInstancesCommand).resolves({ Instances: [{ InstanceId: 'i-new' }] });
    runsAt('i-new', '10.0.0.9');
    ec2Mock.on(StartInstancesCommand).resolves({});
    ec2Mock.on(StopInstancesCommand).resolves({});
    unhealthy.add('http://10.0.0.1:5001');

    await expect(sut.start(1)).rejects.toThrow(/i-1 never answered/);
    const nodes = await sut.start(1);

    expect(nodes.map((node) => node.id)).toEqual(['i-new']);
    expect(ec2Mock).toHaveReceivedCommandTimes(StartInstancesCommand, 1);
  });
});
