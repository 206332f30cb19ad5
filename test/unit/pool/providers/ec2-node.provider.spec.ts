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
import { Ec2NodeProvider } from '../../../../src/pool/providers/ec2-node.provider';
import { Ec2NodeProviderOptions } from '../../../../src/pool/providers/ec2-node-provider.options';
import { TypeOrmInstanceClaims } from '../../../../src/pool/providers/ec2-instance-claims';
import {
  awsError,
  described,
  FakeClock,
  FREE_FILTERS,
  instance,
  openClaimsDatabase,
  TAG,
  TAG_FILTER,
  TIMING,
} from './ec2-test-kit';

describe('Ec2NodeProvider', () => {
  const ec2Mock = mockClient(EC2Client);
  let clock: FakeClock;
  let probed: string[];
  /** url → how many probes answer "not healthy" before it is healthy (absent: healthy at once). */
  let unhealthyProbes: Map<string, number>;

  const probe = async (url: string) => {
    probed.push(url);
    const left = unhealthyProbes.get(url) ?? 0;
    unhealthyProbes.set(url, left - 1);
    return left <= 0;
  };
  let db: Awaited<ReturnType<typeof openClaimsDatabase>>;
  let claims: TypeOrmInstanceClaims;
  const provider = (options: Partial<Ec2NodeProviderOptions> = {}) =>
    new Ec2NodeProvider(
      { tag: TAG, ...TIMING, ...options },
      new EC2Client({}),
      probe,
      clock,
      claims,
    );

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(async () => {
    db = await openClaimsDatabase();
    claims = new TypeOrmInstanceClaims(db.dataSource);
    ec2Mock.reset();
    clock = new FakeClock();
    probed = [];
    unhealthyProbes = new Map();
  });
  afterEach(() => db.close());

  describe('start', () => {
    it('starts the lowest-id stopped instances, polls until running, waits for /health, returns their endpoints', async () => {
      ec2Mock
        .on(DescribeInstancesCommand, {
          Filters: FREE_FILTERS,
        })
        .resolves(
          described(
            instance('i-0c', 'stopped'),
            instance('i-0a', 'stopped'),
            instance('i-0b', 'stopped'),
          ),
        );
      ec2Mock
        .on(DescribeInstancesCommand, { InstanceIds: ['i-0a', 'i-0b'] })
        .resolvesOnce(described(instance('i-0a', 'pending'), instance('i-0b', 'pending')))
        .resolvesOnce(
          described(instance('i-0a', 'running', '10.0.0.1'), instance('i-0b', 'pending')),
        );
      ec2Mock
        .on(DescribeInstancesCommand, { InstanceIds: ['i-0b'] })
        .resolves(described(instance('i-0b', 'running', '10.0.0.2')));
      ec2Mock.on(StartInstancesCommand).resolves({});
      unhealthyProbes.set('http://10.0.0.2:5001', 1);

      const nodes = await provider().start(2);

      expect(nodes).toEqual([
        { id: 'i-0a', url: 'http://10.0.0.1:5001' },
        { id: 'i-0b', url: 'http://10.0.0.2:5001' },
      ]);
      expect(ec2Mock).toHaveReceivedCommandTimes(StartInstancesCommand, 1);
      expect(ec2Mock).toHaveReceivedCommandWith(StartInstancesCommand, {
        InstanceIds: ['i-0a', 'i-0b'],
      });
      const describes = ec2Mock
        .commandCalls(DescribeInstancesCommand)
        .map((call) => call.args[0].input);
      expect(describes).toEqual([
        { Filters: FREE_FILTERS },
        { InstanceIds: ['i-0a', 'i-0b'] },
        { InstanceIds: ['i-0a', 'i-0b'] },
        { InstanceIds: ['i-0b'] },
      ]);
      // two polls for `running`, then i-0b answers /health on the second round
      expect(clock.sleeps).toEqual([1_000, 1_000, 1_000]);
      expect(probed).toEqual([
        'http://10.0.0.1:5001',
        'http://10.0.0.2:5001',
        'http://10.0.0.2:5001',
      ]);
      expect(ec2Mock).not.toHaveReceivedCommand(StopInstancesCommand);
    });

    it('stops the instances it started and names the node when one never answers /health', async () => {
      ec2Mock
        .on(DescribeInstancesCommand, {
          Filters: FREE_FILTERS,
        })
        .resolves(described(instance('i-1', 'stopped'), instance('i-2', 'stopped')));
      ec2Mock
        .on(DescribeInstancesCommand, { InstanceIds: ['i-1', 'i-2'] })
        .resolves(
          described(instance('i-1', 'running', '10.0.0.1'), instance('i-2', 'running', '10.0.0.9')),
        );
      ec2Mock.on(StartInstancesCommand).resolves({});
      ec2Mock.on(StopInstancesCommand).resolves({});
      unhealthyProbes.set('http://10.0.0.9:5001', Infinity);

      const error = await provider()
        .start(2)
        .catch((e: Error) => e);

      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toBe(
        'EC2 node provider could not start 2 node(s): i-2 never answered http://10.0.0.9:5001/health ' +
          'within 5000 ms; stopped i-1, i-2 again',
      );
      expect(ec2Mock).toHaveReceivedCommandTimes(StopInstancesCommand, 1);
      expect(ec2Mock).toHaveReceivedCommandWith(StopInstancesCommand, {
        InstanceIds: ['i-1', 'i-2'],
      });
      expect(clock.elapsed()).toBe(5_000);
    });

    it('reports the probe error of a node that keeps refusing connections', async () => {
      ec2Mock
        .on(DescribeInstancesCommand, {
          Filters: FREE_FILTERS,
        })
        .resolves(described(instance('i-1', 'stopped')));
      ec2Mock
        .on(DescribeInstancesCommand, { InstanceIds: ['i-1'] })
        .resolves(described(instance('i-1', 'running', '10.0.0.7')));
      ec2Mock.on(StopInstancesCommand).resolves({});
      const refusing = async () => {
        throw new Error('connect ECONNREFUSED 10.0.0.7:5001');
      };
      const sut = new Ec2NodeProvider(
        { tag: TAG, ...TIMING },
        new EC2Client({}),
        refusing,
        clock,
        claims,
      );

      await expect(sut.start(1)).rejects.toThrow(
        'i-1 never answered http://10.0.0.7:5001/health within 5000 ms (last error: connect ECONNREFUSED 10.0.0.7:5001); stopped i-1 again',
      );
    });

    it('rolls back and reports the last state when an instance never reaches running, waiting until the pending instance can be stopped', async () => {
      ec2Mock
        .on(DescribeInstancesCommand, { Filters: FREE_FILTERS })
        .resolves(described(instance('i-1', 'stopped')));
      const byId = ec2Mock.on(DescribeInstancesCommand, { InstanceIds: ['i-1'] });
      // 11 polls within the 10 s start timeout, then two more while the rollback waits out `pending`
      for (let poll = 0; poll < 13; poll++)
        byId.resolvesOnce(described(instance('i-1', 'pending')));
      byId.resolves(described(instance('i-1', 'running', '10.0.0.1')));
      ec2Mock.on(StopInstancesCommand).resolves({});

      await expect(provider().start(1)).rejects.toThrow(
        'i-1 not running with a private IP after 10000 ms (last state: pending); stopped i-1 again',
      );
      // EC2 refuses to stop a pending instance: the rollback waited until it was running
      expect(ec2Mock).toHaveReceivedCommandTimes(StopInstancesCommand, 1);
      expect(ec2Mock).toHaveReceivedCommandWith(StopInstancesCommand, { InstanceIds: ['i-1'] });
      expect(clock.elapsed()).toBe(12_000);
      expect(probed).toEqual([]);
    });

    it('fails without waiting out the timeout when a starting instance falls back to stopped', async () => {
      ec2Mock
        .on(DescribeInstancesCommand, {
          Filters: FREE_FILTERS,
        })
        .resolves(described(instance('i-1', 'stopped')));
      ec2Mock
        .on(DescribeInstancesCommand, { InstanceIds: ['i-1'] })
        // the first read may still be the pre-start state; only stopped-after-pending is a failure
        .resolvesOnce(described(instance('i-1', 'stopped')))
        .resolvesOnce(described(instance('i-1', 'pending')))
        .resolves(
          described(instance('i-1', 'stopped', undefined, 'Server.InsufficientInstanceCapacity')),
        );
      ec2Mock.on(StopInstancesCommand).resolves({});

      await expect(provider().start(1)).rejects.toThrow(
        'i-1 went stopped while starting (Server.InsufficientInstanceCapacity); stopped i-1 again',
      );
      expect(clock.elapsed()).toBe(2_000);
    });

    it('refuses with a clear error, starting nothing, when too few instances are stopped and no template is set', async () => {
      ec2Mock.on(DescribeInstancesCommand).resolves(described(instance('i-1', 'stopped')));

      await expect(provider().start(2)).rejects.toThrow(
        'EC2 node provider cannot start 2 node(s): 1 free instance(s) tagged pixpool-role=cache-node ' +
          '(running and healthy, stopped or stopping) and no launch template configured',
      );
      expect(ec2Mock).not.toHaveReceivedCommand(StartInstancesCommand);
      expect(ec2Mock).not.toHaveReceivedCommand(RunInstancesCommand);
    });

    it('launches the shortfall from the launch template, tagged for the pool, and waits until it is visible', async () => {
      ec2Mock
        .on(DescribeInstancesCommand, {
          Filters: FREE_FILTERS,
        })
        .resolves(described(instance('i-1', 'stopped')));
      ec2Mock.on(StartInstancesCommand).resolves({});
      ec2Mock
        .on(RunInstancesCommand)
        .resolves({ Instances: [{ InstanceId: 'i-new2' }, { InstanceId: 'i-new1' }] });
      ec2Mock
        .on(DescribeInstancesCommand, { InstanceIds: ['i-1', 'i-new2', 'i-new1'] })
        // EC2 is eventually consistent: a just-launched id can be unknown for a moment
        .rejectsOnce(
          awsError('InvalidInstanceID.NotFound', "The instance ID 'i-new1' does not exist"),
        )
        .resolves(
          described(
            instance('i-1', 'running', '10.0.0.1'),
            instance('i-new2', 'running', '10.0.0.2'),
            instance('i-new1', 'running', '10.0.0.3'),
          ),
        );

      const sut = provider({ launchTemplate: { name: 'pixpool-cache-node', version: '$Latest' } });
      const nodes = await sut.start(3);

      expect(nodes.map((node) => node.id)).toEqual(['i-1', 'i-new1', 'i-new2']);
      expect(ec2Mock).toHaveReceivedCommandWith(StartInstancesCommand, { InstanceIds: ['i-1'] });
      expect(ec2Mock.commandCalls(RunInstancesCommand)[0].args[0].input).toEqual({
        MinCount: 2,
        MaxCount: 2,
        LaunchTemplate: { LaunchTemplateName: 'pixpool-cache-node', Version: '$Latest' },
        TagSpecifications: [
          { ResourceType: 'instance', Tags: [{ Key: 'pixpool-role', Value: 'cache-node' }] },
        ],
      });
      expect(clock.sleeps).toEqual([1_000]);
    });

    it('stops what it started when launching the rest fails, and says which call failed', async () => {
      ec2Mock.on(DescribeInstancesCommand).resolves(described(instance('i-1', 'stopped')));
      ec2Mock.on(StartInstancesCommand).resolves({});
      ec2Mock
        .on(RunInstancesCommand)
        .rejects(awsError('InsufficientInstanceCapacity', 'no t3.micro in eu-west-1a'));
      ec2Mock.on(StopInstancesCommand).resolves({});

      const sut = provider({ launchTemplate: { id: 'lt-0123', version: '3' } });

      await expect(sut.start(2)).rejects.toThrow(
        'RunInstances of 1 from launch template lt-0123 failed: InsufficientInstanceCapacity: no t3.micro in eu-west-1a; stopped i-1 again',
      );
      expect(ec2Mock).toHaveReceivedCommandWith(RunInstancesCommand, {
        LaunchTemplate: { LaunchTemplateId: 'lt-0123', Version: '3' },
      });
      expect(ec2Mock).toHaveReceivedCommandWith(StopInstancesCommand, { InstanceIds: ['i-1'] });
    });

    it('wraps a StartInstances failure with the call and instance, and stops nothing', async () => {
      ec2Mock.on(DescribeInstancesCommand).resolves(described(instance('i-1', 'stopped')));
      ec2Mock
        .on(StartInstancesCommand)
        .rejects(
          awsError(
            'IncorrectInstanceState',
            'The instance is not in a state from which it can be started',
          ),
        );

      await expect(provider().start(1)).rejects.toThrow(
        'StartInstances for i-1 failed: IncorrectInstanceState: The instance is not in a state from which it can be started',
      );
      expect(ec2Mock).not.toHaveReceivedCommand(StopInstancesCommand);
    });

    it('says so when the rollback itself fails', async () => {
      ec2Mock
        .on(DescribeInstancesCommand, { Filters: FREE_FILTERS })
        .resolves(described(instance('i-1', 'stopped')));
      ec2Mock
        .on(DescribeInstancesCommand, { InstanceIds: ['i-1'] })
        .resolves(described(instance('i-1', 'running', '10.0.0.1')));
      ec2Mock.on(StartInstancesCommand).resolves({});
      ec2Mock
        .on(StopInstancesCommand)
        .rejects(awsError('UnauthorizedOperation', 'not allowed to stop i-1'));
      unhealthyProbes.set('http://10.0.0.1:5001', Infinity);

      await expect(provider().start(1)).rejects.toThrow(
        'i-1 never answered http://10.0.0.1:5001/health within 5000 ms; rolling back also failed: ' +
          'StopInstances for i-1 failed: UnauthorizedOperation: not allowed to stop i-1',
      );
    });

    it('retries a rollback StopInstances that meets IncorrectInstanceState until the instance can be stopped', async () => {
      ec2Mock
        .on(DescribeInstancesCommand, { Filters: FREE_FILTERS })
        .resolves(described(instance('i-1', 'stopped')));
      ec2Mock
        .on(DescribeInstancesCommand, { InstanceIds: ['i-1'] })
        .resolves(described(instance('i-1', 'running', '10.0.0.1')));
      ec2Mock.on(StartInstancesCommand).resolves({});
      ec2Mock
        .on(StopInstancesCommand)
        .rejectsOnce(
          awsError(
            'IncorrectInstanceState',
            'The instance is not in a state from which it can be stopped',
          ),
        )
        .resolves({});
      unhealthyProbes.set('http://10.0.0.1:5001', Infinity);

      await expect(provider().start(1)).rejects.toThrow('; stopped i-1 again');
      expect(ec2Mock).toHaveReceivedCommandTimes(StopInstancesCommand, 2);
    });
  });

  describe('list (reconcile at boot)', () => {
    it('returns running pool instances and waits for pending ones, leaving out one that never comes up', async () => {
      ec2Mock
        .on(DescribeInstancesCommand, {
          Filters: [TAG_FILTER, { Name: 'instance-state-name', Values: ['pending', 'running'] }],
        })
        .resolves(
          described(
            instance('i-3', 'running', '10.0.0.3'),
            instance('i-2', 'pending'),
            instance('i-9', 'pending'),
          ),
        );
      ec2Mock
        .on(DescribeInstancesCommand, { InstanceIds: ['i-2', 'i-9'] })
        .resolves(described(instance('i-2', 'running', '10.0.0.2'), instance('i-9', 'pending')));
      ec2Mock
        .on(DescribeInstancesCommand, { InstanceIds: ['i-9'] })
        .resolves(described(instance('i-9', 'pending')));

      const nodes = await provider().list();

      expect(nodes).toEqual([
        { id: 'i-2', url: 'http://10.0.0.2:5001' },
        { id: 'i-3', url: 'http://10.0.0.3:5001' },
      ]);
      // running at boot is taken as is; the pending one that came up is health-checked
      expect(probed).toEqual(['http://10.0.0.2:5001']);
      expect(ec2Mock).not.toHaveReceivedCommand(StopInstancesCommand);
    });

    it('follows NextToken through every page of DescribeInstances', async () => {
      const filters = [TAG_FILTER, { Name: 'instance-state-name', Values: ['pending', 'running'] }];
      ec2Mock
        .on(DescribeInstancesCommand)
        .resolvesOnce({ ...described(instance('i-2', 'running', '10.0.0.2')), NextToken: 'page-2' })
        .resolvesOnce(described(instance('i-1', 'running', '10.0.0.1')));

      const nodes = await provider({ port: 6001 }).list();

      expect(nodes).toEqual([
        { id: 'i-1', url: 'http://10.0.0.1:6001' },
        { id: 'i-2', url: 'http://10.0.0.2:6001' },
      ]);
      expect(ec2Mock).toHaveReceivedNthCommandWith(1, DescribeInstancesCommand, {
        Filters: filters,
      });
      expect(ec2Mock).toHaveReceivedNthCommandWith(2, DescribeInstancesCommand, {
        Filters: filters,
        NextToken: 'page-2',
      });
    });

    it('wraps a DescribeInstances failure with the call that failed', async () => {
      ec2Mock
        .on(DescribeInstancesCommand)
        .rejects(awsError('UnauthorizedOperation', 'not authorized'));

      await expect(provider().list()).rejects.toThrow(
        'DescribeInstances of the pool (pending, running) failed: UnauthorizedOperation: not authorized',
      );
    });
  });

  describe('id-list mode', () => {
    it('selects by instance ids instead of a tag, starting from the lowest stopped id', async () => {
      ec2Mock
        .on(DescribeInstancesCommand, {
          Filters: [{ Name: 'instance-state-name', Values: ['running', 'stopping', 'stopped'] }],
        })
        .resolves(described(instance('i-c', 'stopped'), instance('i-b', 'stopped')));
      ec2Mock
        .on(DescribeInstancesCommand, { InstanceIds: ['i-b'] })
        .resolves(described(instance('i-b', 'running', '10.0.0.1')));
      ec2Mock.on(StartInstancesCommand).resolves({});

      const sut = provider({ tag: undefined, instanceIds: ['i-c', 'i-a', 'i-b'] });
      const nodes = await sut.start(1);

      expect(nodes).toEqual([{ id: 'i-b', url: 'http://10.0.0.1:5001' }]);
      expect(ec2Mock).toHaveReceivedNthCommandWith(1, DescribeInstancesCommand, {
        InstanceIds: ['i-a', 'i-b', 'i-c'],
        Filters: [{ Name: 'instance-state-name', Values: ['running', 'stopping', 'stopped'] }],
      });
      expect(ec2Mock).toHaveReceivedCommandWith(StartInstancesCommand, { InstanceIds: ['i-b'] });
    });

    it('refuses a launch template, whose instances it could not find again', () => {
      expect(() =>
        provider({ tag: undefined, instanceIds: ['i-a'], launchTemplate: { id: 'lt-1' } }),
      ).toThrow('EC2 node provider launchTemplate needs a tag to tag the instances it launches');
      expect(() => provider({ tag: undefined })).toThrow(
        'EC2 node provider needs a tag or a non-empty instanceIds list to find its instances',
      );
    });
  });

  describe('stop', () => {
    const allStates = ['pending', 'running', 'shutting-down', 'stopped', 'stopping', 'terminated'];

    it('stops the given pool instances, skipping ones already terminated', async () => {
      ec2Mock
        .on(DescribeInstancesCommand, {
          Filters: [TAG_FILTER, { Name: 'instance-state-name', Values: allStates }],
        })
        .resolves(
          described(
            instance('i-1', 'running', '10.0.0.1'),
            instance('i-2', 'running', '10.0.0.2'),
            instance('i-3', 'terminated'),
          ),
        );
      ec2Mock.on(StopInstancesCommand).resolves({});

      await provider().stop(['i-2', 'i-3']);

      expect(ec2Mock).toHaveReceivedCommandTimes(StopInstancesCommand, 1);
      expect(ec2Mock).toHaveReceivedCommandWith(StopInstancesCommand, { InstanceIds: ['i-2'] });
    });

    it('refuses to stop an instance outside the pool and stops nothing', async () => {
      ec2Mock
        .on(DescribeInstancesCommand)
        .resolves(described(instance('i-1', 'running', '10.0.0.1')));

      await expect(provider().stop(['i-1', 'i-app'])).rejects.toThrow(
        'EC2 node provider refuses to stop i-app: not an instance tagged pixpool-role=cache-node',
      );
      expect(ec2Mock).not.toHaveReceivedCommand(StopInstancesCommand);
    });
  });

  describe('capacity', () => {
    it('counts pool instances that are not being terminated', async () => {
      ec2Mock
        .on(DescribeInstancesCommand)
        .resolves(
          described(
            instance('i-1', 'running'),
            instance('i-2', 'stopped'),
            instance('i-3', 'stopping'),
          ),
        );

      await expect(provider().capacity()).resolves.toBe(3);
      expect(ec2Mock).toHaveReceivedCommandWith(DescribeInstancesCommand, {
        Filters: [
          TAG_FILTER,
          { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
        ],
      });
    });

    it('is unbounded with a launch template', async () => {
      await expect(provider({ launchTemplate: { name: 'lt' } }).capacity()).resolves.toBe(Infinity);
      expect(ec2Mock).not.toHaveReceivedAnyCommand();
    });
  });
});
