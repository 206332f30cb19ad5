import 'aws-sdk-client-mock-jest';
import {
  DescribeInstancesCommand,
  EC2Client,
  StartInstancesCommand,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import { Logger } from '@nestjs/common';
import { mockClient } from 'aws-sdk-client-mock';
import { Leadership } from '../../../../src/coordination/leadership.port';
import { AppConfig } from '../../../../src/config/app-config';
import { loadConfig } from '../../../../src/config/config-loader';
import { TypeOrmInstanceClaims } from '../../../../src/pool/providers/ec2-instance-claims';
import { Ec2NodeProvider } from '../../../../src/pool/providers/ec2-node.provider';
import { Ec2NodeProviderOptions } from '../../../../src/pool/providers/ec2-node-provider.options';
import { Ec2Reconciler } from '../../../../src/pool/providers/ec2-reconciler.service';
import { TypeOrmPoolStateStore } from '../../../../src/pool/routing/typeorm-pool-state.store';
import { poolState } from '../fakes/pool-state.fixtures';
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

const UP_FILTERS = [TAG_FILTER, { Name: 'instance-state-name', Values: ['pending', 'running'] }];
const GRACE = 60_000;
const CLAIM_TTL = 900_000;
const throttled = () => awsError('RequestLimitExceeded', 'Request limit exceeded.');

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The EC2 lifecycle of issue 12 played out against the mocked EC2 API, with the real claims table
 * (SQLite): first boot, stopping → stopped, two app instances, throttling, rollback of pending
 * instances, and the reconciler. Every request sent to EC2 is checked.
 */
describe('EC2 lifecycle', () => {
  const ec2Mock = mockClient(EC2Client);
  let clock: FakeClock;
  let db: Awaited<ReturnType<typeof openClaimsDatabase>>;
  let claims: TypeOrmInstanceClaims;
  /** urls that never answer /health */
  let dead: Set<string>;
  let probed: string[];

  const probe = async (url: string) => {
    probed.push(url);
    return !dead.has(url);
  };
  const provider = (options: Partial<Ec2NodeProviderOptions> = {}) =>
    new Ec2NodeProvider(
      { tag: TAG, ...TIMING, strayGraceMs: GRACE, claimTtlMs: CLAIM_TTL, ...options },
      new EC2Client({}),
      probe,
      clock,
      claims,
    );
  const stopCalls = () =>
    ec2Mock.commandCalls(StopInstancesCommand).map((call) => call.args[0].input.InstanceIds);
  const startCalls = () =>
    ec2Mock.commandCalls(StartInstancesCommand).map((call) => call.args[0].input.InstanceIds);

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(async () => {
    ec2Mock.reset();
    clock = new FakeClock();
    db = await openClaimsDatabase();
    claims = new TypeOrmInstanceClaims(db.dataSource);
    dead = new Set();
    probed = [];
  });
  afterEach(() => db.close());

  it('refuses a claim that could run out while its start is still in flight', () => {
    // start timeout 10 s + health timeout 5 s
    expect(() => provider({ claimTtlMs: 15_000 })).toThrow(
      'EC2 node provider claimTtlMs (15000) must exceed startTimeoutMs + healthTimeoutMs (15000)',
    );
    expect(() => provider({ claimTtlMs: 15_001 })).not.toThrow();
  });

  describe('first boot', () => {
    it('adopts running tagged instances that answer /health up to the initial size and stops the rest', async () => {
      ec2Mock
        .on(DescribeInstancesCommand, { Filters: FREE_FILTERS })
        .resolves(
          described(
            instance('i-4', 'running', '10.0.0.4'),
            instance('i-1', 'running', '10.0.0.1'),
            instance('i-2', 'running', '10.0.0.2'),
            instance('i-3', 'running', '10.0.0.3'),
            instance('i-5', 'stopped'),
          ),
        );
      ec2Mock.on(StopInstancesCommand).resolves({});
      dead.add('http://10.0.0.2:5001');
      const sut = provider();
      sut.adopt([]); // no stored pool: what the resize service tells the provider at first boot

      const nodes = await sut.start(2);

      expect(nodes).toEqual([
        { id: 'i-1', url: 'http://10.0.0.1:5001' },
        { id: 'i-3', url: 'http://10.0.0.3:5001' },
      ]);
      expect(ec2Mock).not.toHaveReceivedCommand(StartInstancesCommand);
      // i-2 does not answer, i-4 is beyond the initial size; the stopped i-5 is left alone
      expect(stopCalls()).toEqual([['i-2', 'i-4']]);
      expect(ec2Mock.commandCalls(DescribeInstancesCommand).map((c) => c.args[0].input)).toEqual([
        { Filters: FREE_FILTERS },
      ]);
      expect(probed).toEqual([
        'http://10.0.0.1:5001',
        'http://10.0.0.2:5001',
        'http://10.0.0.3:5001',
      ]);
      // what it took stays claimed (until it is in the saved assignment and beyond); the stopped are free
      expect([...(await claims.live(clock.now())).keys()].sort()).toEqual(['i-1', 'i-3']);
    });

    it('fills up with stopped instances when too few running ones answer, and stops nothing else', async () => {
      ec2Mock
        .on(DescribeInstancesCommand, { Filters: FREE_FILTERS })
        .resolves(described(instance('i-1', 'running', '10.0.0.1'), instance('i-2', 'stopped')));
      ec2Mock
        .on(DescribeInstancesCommand, { InstanceIds: ['i-2'] })
        .resolves(described(instance('i-2', 'running', '10.0.0.2')));
      ec2Mock.on(StartInstancesCommand).resolves({});
      const sut = provider();
      sut.adopt([]);

      await expect(sut.start(2)).resolves.toEqual([
        { id: 'i-1', url: 'http://10.0.0.1:5001' },
        { id: 'i-2', url: 'http://10.0.0.2:5001' },
      ]);
      expect(startCalls()).toEqual([['i-2']]);
      expect(ec2Mock).not.toHaveReceivedCommand(StopInstancesCommand);
    });

    it('leaves running instances another booting app instance claimed to it', async () => {
      ec2Mock
        .on(DescribeInstancesCommand, { Filters: FREE_FILTERS })
        .resolves(
          described(instance('i-1', 'running', '10.0.0.1'), instance('i-2', 'running', '10.0.0.2')),
        );
      ec2Mock.on(StopInstancesCommand).resolves({});
      await claims.claim('i-1', 'other-app', clock.now(), CLAIM_TTL);
      const sut = provider();
      sut.adopt([]);

      await expect(sut.start(1)).resolves.toEqual([{ id: 'i-2', url: 'http://10.0.0.2:5001' }]);
      expect(ec2Mock).not.toHaveReceivedCommand(StopInstancesCommand);
      expect(probed).toEqual(['http://10.0.0.2:5001']);
    });
  });

  describe('grow', () => {
    it('takes a healthy running stray before starting a stopped instance, and stops nothing else', async () => {
      ec2Mock
        .on(DescribeInstancesCommand, { Filters: FREE_FILTERS })
        .resolves(
          described(
            instance('i-1', 'running', '10.0.0.1'),
            instance('i-2', 'stopped'),
            instance('i-3', 'running', '10.0.0.3'),
            instance('i-4', 'running', '10.0.0.4'),
          ),
        );
      dead.add('http://10.0.0.3:5001');
      const sut = provider();
      sut.adopt(['i-1']); // a member: never taken again

      await expect(sut.start(1)).resolves.toEqual([{ id: 'i-4', url: 'http://10.0.0.4:5001' }]);
      expect(ec2Mock).not.toHaveReceivedCommand(StartInstancesCommand);
      // not the first boot: a stray that does not answer is the reconciler's business
      expect(ec2Mock).not.toHaveReceivedCommand(StopInstancesCommand);
    });

    it('waits for a stopping instance to be stopped before starting it (a grow right after a shrink)', async () => {
      ec2Mock
        .on(DescribeInstancesCommand, { Filters: FREE_FILTERS })
        .resolves(described(instance('i-1', 'running', '10.0.0.1'), instance('i-2', 'stopping')));
      ec2Mock
        .on(DescribeInstancesCommand, { InstanceIds: ['i-2'] })
        .resolvesOnce(described(instance('i-2', 'stopping')))
        .resolvesOnce(described(instance('i-2', 'stopping')))
        .resolvesOnce(described(instance('i-2', 'stopped')))
        // after StartInstances
        .resolvesOnce(described(instance('i-2', 'pending')))
        .resolves(described(instance('i-2', 'running', '10.0.0.2')));
      ec2Mock.on(StartInstancesCommand).callsFake(() => {
        // EC2 would answer IncorrectInstanceState had the start come before `stopped`
        expect(clock.elapsed()).toBe(2_000);
        return {};
      });
      const sut = provider();
      sut.adopt(['i-1']);

      await expect(sut.start(1)).resolves.toEqual([{ id: 'i-2', url: 'http://10.0.0.2:5001' }]);
      expect(startCalls()).toEqual([['i-2']]);
      expect(clock.sleeps).toEqual([1_000, 1_000, 1_000]);
    });

    it('fails with the state it saw when a stopping instance does not stop within the start timeout', async () => {
      ec2Mock
        .on(DescribeInstancesCommand, { Filters: FREE_FILTERS })
        .resolves(described(instance('i-2', 'stopping')));
      ec2Mock
        .on(DescribeInstancesCommand, { InstanceIds: ['i-2'] })
        .resolves(described(instance('i-2', 'stopping')));
      const sut = provider();
      sut.adopt(['i-1']);

      await expect(sut.start(1)).rejects.toThrow(
        'EC2 node provider could not start i-2: not stopped after 10000 ms (i-2 stopping)',
      );
      expect(ec2Mock).not.toHaveReceivedCommand(StartInstancesCommand);
      // the claim is given back: another grow may wait for it again
      await expect(claims.live(clock.now())).resolves.toEqual(new Map());
    });
  });

  describe('two app instances', () => {
    it('growing at once never take the same instance', async () => {
      ec2Mock
        .on(DescribeInstancesCommand, { Filters: FREE_FILTERS })
        .resolves(described(instance('i-1', 'stopped'), instance('i-2', 'stopped')));
      ec2Mock
        .on(DescribeInstancesCommand, { InstanceIds: ['i-1'] })
        .resolves(described(instance('i-1', 'running', '10.0.0.1')));
      ec2Mock
        .on(DescribeInstancesCommand, { InstanceIds: ['i-2'] })
        .resolves(described(instance('i-2', 'running', '10.0.0.2')));
      ec2Mock.on(StartInstancesCommand).resolves({});
      const a = provider();
      const b = provider();
      a.adopt(['i-0']);
      b.adopt(['i-0']);

      const [fromA, fromB] = await Promise.all([a.start(1), b.start(1)]);

      const ids = [...fromA, ...fromB].map((node) => node.id).sort();
      expect(ids).toEqual(['i-1', 'i-2']);
      expect(startCalls().sort()).toEqual([['i-1'], ['i-2']]);
      const live = await claims.live(clock.now());
      expect(live.get(fromA[0].id)).toBe(a.owner);
      expect(live.get(fromB[0].id)).toBe(b.owner);
    });

    it('with one instance left, the loser fails clearly and stops nothing the winner started', async () => {
      ec2Mock
        .on(DescribeInstancesCommand, { Filters: FREE_FILTERS })
        .resolves(described(instance('i-1', 'stopped')));
      ec2Mock
        .on(DescribeInstancesCommand, { InstanceIds: ['i-1'] })
        .resolves(described(instance('i-1', 'running', '10.0.0.1')));
      ec2Mock.on(StartInstancesCommand).resolves({});
      const a = provider();
      const b = provider();

      const results = await Promise.allSettled([a.start(1), b.start(1)]);

      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect((lost[0].reason as Error).message).toContain(
        'cannot start 1 node(s): 0 free instance(s)',
      );
      expect(startCalls()).toEqual([['i-1']]);
      expect(ec2Mock).not.toHaveReceivedCommand(StopInstancesCommand);
    });
  });

  describe('throttling (RequestLimitExceeded)', () => {
    it('retries throttled calls with growing, jittered waits and then goes on', async () => {
      ec2Mock
        .on(DescribeInstancesCommand, { Filters: FREE_FILTERS })
        .rejectsOnce(throttled())
        .resolves(described(instance('i-1', 'stopped')));
      ec2Mock
        .on(DescribeInstancesCommand, { InstanceIds: ['i-1'] })
        .resolves(described(instance('i-1', 'running', '10.0.0.1')));
      ec2Mock
        .on(StartInstancesCommand)
        .rejectsOnce(throttled())
        .rejectsOnce(throttled())
        .resolves({});
      const sut = provider();
      sut.adopt(['i-0']);

      await expect(sut.start(1)).resolves.toEqual([{ id: 'i-1', url: 'http://10.0.0.1:5001' }]);

      expect(startCalls()).toEqual([['i-1'], ['i-1'], ['i-1']]);
      const [describeWait, startWait1, startWait2] = clock.sleeps;
      expect(clock.sleeps).toHaveLength(3); // no poll needed: running at the first look
      for (const [wait, cap] of [
        [describeWait, 500],
        [startWait1, 500],
        [startWait2, 1_000],
      ]) {
        expect(wait).toBeGreaterThanOrEqual(cap / 2);
        expect(wait).toBeLessThanOrEqual(cap);
      }
    });

    it('gives up at the deadline with the throttling error, having started nothing', async () => {
      ec2Mock
        .on(DescribeInstancesCommand, { Filters: FREE_FILTERS })
        .resolves(described(instance('i-1', 'stopped')));
      ec2Mock.on(StartInstancesCommand).rejects(throttled());
      const sut = provider({ throttleDeadlineMs: 5_000 });
      sut.adopt(['i-0']);

      const error = (await sut.start(1).catch((e: Error) => e)) as Error;

      expect(error.message).toMatch(
        /^StartInstances for i-1 failed: RequestLimitExceeded: Request limit exceeded\. \(still throttled after \d+ attempts in \d+ ms\)$/,
      );
      expect(clock.elapsed()).toBeLessThanOrEqual(5_000);
      expect(clock.elapsed()).toBeGreaterThan(2_000);
      expect(startCalls().length).toBeGreaterThanOrEqual(4);
      expect(ec2Mock).not.toHaveReceivedCommand(StopInstancesCommand);
    });

    it('does not retry other errors', async () => {
      ec2Mock
        .on(DescribeInstancesCommand)
        .rejects(awsError('UnauthorizedOperation', 'not authorized'));

      await expect(provider().start(1)).rejects.toThrow(
        'DescribeInstances of the pool (running, stopping, stopped) failed: UnauthorizedOperation: not authorized',
      );
      expect(ec2Mock).toHaveReceivedCommandTimes(DescribeInstancesCommand, 1);
      expect(clock.sleeps).toEqual([]);
    });
  });

  describe('shrink', () => {
    it('stops a pending instance once it is running (EC2 refuses to stop pending ones)', async () => {
      ec2Mock
        .on(DescribeInstancesCommand, {
          Filters: [
            TAG_FILTER,
            {
              Name: 'instance-state-name',
              Values: ['pending', 'running', 'shutting-down', 'stopped', 'stopping', 'terminated'],
            },
          ],
        })
        .resolves(described(instance('i-1', 'pending'), instance('i-2', 'running', '10.0.0.2')));
      ec2Mock
        .on(DescribeInstancesCommand, { InstanceIds: ['i-1'] })
        .resolvesOnce(described(instance('i-1', 'pending')))
        .resolves(described(instance('i-1', 'running', '10.0.0.1')));
      ec2Mock.on(StopInstancesCommand).resolves({});

      await provider().stop(['i-1', 'i-2']);

      expect(stopCalls()).toEqual([['i-2'], ['i-1']]);
      expect(clock.sleeps).toEqual([1_000, 1_000]);
    });
  });

  describe('reconciler', () => {
    const up = (...instances: ReturnType<typeof instance>[]) =>
      ec2Mock
        .on(DescribeInstancesCommand, { Filters: UP_FILTERS })
        .resolves(described(...instances));

    it('stops a stray only after the grace period, and never an instance in the assignment', async () => {
      up(
        instance('i-1', 'running', '10.0.0.1'),
        instance('i-2', 'running', '10.0.0.2'),
        instance('i-3', 'running', '10.0.0.3'),
      );
      ec2Mock.on(StopInstancesCommand).resolves({});
      const sut = provider();
      const assigned = new Set(['i-1', 'i-3']);

      const first = await sut.reconcile(assigned);
      expect(first.stopped).toEqual([]);
      expect(first.waiting).toEqual(new Map([['i-2', 0]]));

      clock.advance(GRACE - 1);
      expect((await sut.reconcile(assigned)).waiting).toEqual(new Map([['i-2', GRACE - 1]]));
      expect(ec2Mock).not.toHaveReceivedCommand(StopInstancesCommand);

      clock.advance(1);
      const due = await sut.reconcile(assigned);
      expect(due.stopped).toEqual(['i-2']);
      expect(stopCalls()).toEqual([['i-2']]);
      // what it stopped is free again for a grow (which waits for `stopped`)
      await expect(claims.live(clock.now())).resolves.toEqual(new Map());
    });

    it('forgets a stray that joined the assignment, and counts its grace again if it leaves', async () => {
      up(instance('i-1', 'running', '10.0.0.1'), instance('i-2', 'running', '10.0.0.2'));
      ec2Mock.on(StopInstancesCommand).resolves({});
      const sut = provider();

      await sut.reconcile(new Set(['i-1']));
      clock.advance(GRACE - 10);
      await sut.reconcile(new Set(['i-1', 'i-2'])); // a grow took it
      clock.advance(20);
      const report = await sut.reconcile(new Set(['i-1']));

      expect(report.stopped).toEqual([]);
      expect(report.waiting).toEqual(new Map([['i-2', 0]]));
      expect(ec2Mock).not.toHaveReceivedCommand(StopInstancesCommand);
    });

    it('never stops an instance an app instance has claimed (a start in flight)', async () => {
      up(instance('i-1', 'running', '10.0.0.1'), instance('i-2', 'pending'));
      await claims.claim('i-2', 'growing-app', clock.now(), CLAIM_TTL);
      const sut = provider();

      await sut.reconcile(new Set(['i-1']));
      clock.advance(CLAIM_TTL - 1);
      const report = await sut.reconcile(new Set(['i-1']));

      expect(report.claimed).toEqual(['i-2']);
      expect(ec2Mock).not.toHaveReceivedCommand(StopInstancesCommand);
    });

    it('cleans up after an app restart between StartInstances and saving the assignment', async () => {
      // app A grows by i-2 and dies before it saves the assignment (still [i-1])
      ec2Mock
        .on(DescribeInstancesCommand, { Filters: FREE_FILTERS })
        .resolves(described(instance('i-1', 'running', '10.0.0.1'), instance('i-2', 'stopped')));
      ec2Mock
        .on(DescribeInstancesCommand, { InstanceIds: ['i-2'] })
        .resolves(described(instance('i-2', 'running', '10.0.0.2')));
      ec2Mock.on(StartInstancesCommand).resolves({});
      ec2Mock.on(StopInstancesCommand).resolves({});
      const crashed = provider();
      crashed.adopt(['i-1']);
      await crashed.start(1);
      up(instance('i-1', 'running', '10.0.0.1'), instance('i-2', 'running', '10.0.0.2'));

      // app B, restarted, leads; the reconciler runs every minute
      const restarted = provider();
      const stoppedAt: number[] = [];
      for (let minute = 0; minute <= 30 && stoppedAt.length === 0; minute++) {
        const report = await restarted.reconcile(new Set(['i-1']));
        if (report.stopped.includes('i-2')) stoppedAt.push(clock.elapsed());
        clock.advance(60_000);
      }

      expect(stopCalls()).toEqual([['i-2']]);
      // billed no longer than A's claim (A might still have been starting it) plus the grace period
      expect(stoppedAt[0]).toBeGreaterThanOrEqual(CLAIM_TTL + GRACE);
      expect(stoppedAt[0]).toBeLessThanOrEqual(CLAIM_TTL + GRACE + 60_000);
    });

    describe('the scheduled job', () => {
      let config: AppConfig;
      let store: TypeOrmPoolStateStore;
      const leadership = (leads: boolean): Leadership => ({
        isLeader: () => leads,
        fencingToken: () => (leads ? 1 : null),
      });

      beforeEach(() => {
        config = loadConfig({
          env: {
            PIXPOOL_POOL_PROVIDER: 'ec2',
            PIXPOOL_SECURITY_NODE_SECRET: 'ec2-node-secret-padded-to-32-characters',
          },
        });
        store = new TypeOrmPoolStateStore(db.dataSource);
      });

      it('acts on the stored assignment, on the leader only', async () => {
        up(instance('i-1', 'running', '10.0.0.1'), instance('i-2', 'running', '10.0.0.2'));
        ec2Mock.on(StopInstancesCommand).resolves({});
        await store.compareAndSave(0, poolState(1, ['i-1']));
        const sut = provider({ strayGraceMs: 1_000 });

        const follower = new Ec2Reconciler(config, sut, store, leadership(false));
        await expect(follower.tick()).resolves.toBeNull();
        expect(ec2Mock).not.toHaveReceivedAnyCommand();

        const leader = new Ec2Reconciler(config, sut, store, leadership(true));
        await leader.tick();
        clock.advance(1_000);
        const report = await leader.tick();

        expect(report?.stopped).toEqual(['i-2']);
        expect(stopCalls()).toEqual([['i-2']]);
        // without a leadership provider there is one instance, and it leads
        await expect(new Ec2Reconciler(config, sut, store).tick()).resolves.not.toBeNull();
      });

      it('runs every reconcile interval once bootstrapped, and not after shutdown', async () => {
        config = loadConfig({
          env: {
            PIXPOOL_POOL_PROVIDER: 'ec2',
            PIXPOOL_SECURITY_NODE_SECRET: 'ec2-node-secret-padded-to-32-characters',
            PIXPOOL_POOL_EC2_RECONCILE_INTERVAL_MS: '1000',
          },
        });
        up(instance('i-1', 'running', '10.0.0.1'), instance('i-2', 'running', '10.0.0.2'));
        ec2Mock.on(StopInstancesCommand).resolves({});
        await store.compareAndSave(0, poolState(1, ['i-1']));
        const sut = new Ec2Reconciler(
          config,
          provider({ strayGraceMs: 1_000 }),
          store,
          leadership(true),
        );
        await sut.tick(); // i-2 first seen outside the assignment
        clock.advance(1_000);

        sut.onApplicationBootstrap();
        const deadline = Date.now() + 5_000;
        while (stopCalls().length === 0 && Date.now() < deadline) await sleep(50);
        await sut.onApplicationShutdown();
        const describesAtShutdown = ec2Mock.commandCalls(DescribeInstancesCommand).length;
        await sleep(1_500);

        expect(stopCalls()).toEqual([['i-2']]);
        expect(ec2Mock.commandCalls(DescribeInstancesCommand)).toHaveLength(describesAtShutdown);
      });

      it('does nothing before the first assignment is saved', async () => {
        const sut = new Ec2Reconciler(config, provider(), store, leadership(true));
        await expect(sut.tick()).resolves.toBeNull();
        expect(ec2Mock).not.toHaveReceivedAnyCommand();
      });
    });
  });
});
