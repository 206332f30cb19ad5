import { Logger } from '@nestjs/common';
import { loadConfig } from '../../../../src/config/config-loader';
import { Leadership } from '../../../../src/coordination/leadership.port';
import { MembershipService } from '../../../../src/pool/membership/membership.service';
import { NodeFailureService } from '../../../../src/pool/membership/node-failure.service';
import type { PeerNotifier } from '../../../../src/pool/client/peer-notifier';
import { PoolRouter } from '../../../../src/pool/routing/pool-router.service';
import type { PoolState } from '../../../../src/pool/routing/pool-state';
import { SimClock, T0 } from '../../metrics/stats-fixtures';
import { deferred, eventually } from '../fakes/deferred';
import { FakePoolRouter } from '../fakes/fake-pool-router';
import { InMemoryPoolStateStore } from '../fakes/in-memory-pool-state.store';
import { poolState } from '../fakes/pool-state.fixtures';

/** Records what the detector decided, and applies quarantines to the fake router as the real one would. */
class FakeMembership {
  readonly calls: string[] = [];
  failReplacements: Error | null = null;
  constructor(private readonly router: FakePoolRouter) {}
  async quarantine(id: string): Promise<void> {
    this.calls.push(`quarantine ${id}`);
    this.router.quarantined.add(id);
  }
  async restarted(id: string): Promise<void> {
    this.calls.push(`restarted ${id}`);
    this.router.quarantined.add(id);
  }
  async rejoin(id: string): Promise<void> {
    this.calls.push(`rejoin ${id}`);
    this.router.quarantined.delete(id);
    this.router.suspect(id, false);
  }
  async replace(id: string, _why: string, token?: number): Promise<void> {
    this.calls.push(`replace ${id}${token === undefined ? '' : ` fenced ${token}`}`);
    if (this.failReplacements) throw this.failReplacements;
  }
  async heal(token?: number): Promise<void> {
    this.calls.push(`heal${token === undefined ? '' : ` fenced ${token}`}`);
  }
}

class Lease implements Leadership {
  constructor(public epoch: number | null) {}
  isLeader = () => this.epoch !== null;
  fencingToken = () => this.epoch;
}

const REMOVE_AFTER_MS = 15_000;

describe('NodeFailureService (failure detector with quarantine)', () => {
  let router: FakePoolRouter;
  let membership: FakeMembership;
  let store: InMemoryPoolStateStore;
  let clock: SimClock;
  let sut: NodeFailureService;

  beforeAll(() => Logger.overrideLogger(false));
  function setUp(leadership?: Leadership, peers?: PeerNotifier) {
    router = new FakePoolRouter().assign(3, ['a', 'b']);
    for (const id of ['a', 'b']) router.client(id).nodeEpoch = 3; // told their regions at 3
    membership = new FakeMembership(router);
    store = new InMemoryPoolStateStore(poolState(3, ['a', 'b']));
    clock = new SimClock(T0);
    sut = new NodeFailureService(
      loadConfig({
        overrides: {
          pool: { healthIntervalMs: 100 },
          membership: { quarantineAfterFailures: 2, removeAfterMs: REMOVE_AFTER_MS },
        },
      }),
      router as unknown as PoolRouter,
      membership as unknown as MembershipService,
      store,
      leadership,
      clock,
      peers,
    );
  }
  beforeEach(() => setUp());
  afterEach(() => sut.onApplicationShutdown());
  const actions = () => membership.calls.filter((c) => !c.startsWith('heal'));

  it('a quarantine for an undeliverable invalidation returns once the other instances adopted it', async () => {
    const adopted = deferred();
    const waitedFor: number[] = [];
    const peers = {
      caughtUp: (state: PoolState) => {
        waitedFor.push(state.epoch);
        return adopted.promise;
      },
    } as unknown as PeerNotifier;
    setUp(undefined, peers);
    let returned = false;
    const quarantining = sut
      .quarantineNow('b', 'invalidation failed')
      .then(() => (returned = true));

    await eventually(() => waitedFor.length === 1);
    expect(membership.calls).toContain('quarantine b');
    expect(waitedFor).toEqual([router.epoch]);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(returned).toBe(false);
    adopted.resolve();
    await quarantining;
  });

  it('one failed check makes a suspect this instance stops reading; nothing else changes', async () => {
    router.client('a').down();

    await sut.checkAll();

    expect(router.serving('a')).toBe(false);
    expect(router.serving('b')).toBe(true);
    expect(actions()).toEqual([]);
    expect(sut.status('a')).toMatchObject({ ok: false, state: 'suspected', failures: 1 });
    expect(sut.status('b')).toMatchObject({ ok: true, state: 'serving' });
  });

  it('a node that answers with a new boot id restarted: quarantined, and rejoined by the leader', async () => {
    await sut.checkAll();
    router.client('a').boot = 'boot-2'; // killed and restarted on its address between two probes
    router.client('a').nodeEpoch = 0;
    await sut.checkAll();
    expect(membership.calls.filter((c) => !c.startsWith('heal'))).toEqual([
      'restarted a',
      'rejoin a',
    ]);
  });

  it('a node at epoch 0 that the pool gives regions restarted, even unseen before', async () => {
    router.client('b').nodeEpoch = 0;
    await sut.checkAll();
    expect(actions()).toEqual(['restarted b', 'rejoin b']);
    router.client('b').nodeEpoch = 4; // the rejoin gave it its regions at a new epoch
    await sut.checkAll(); // nothing more
    expect(actions()).toEqual(['restarted b', 'rejoin b']);
  });

  it('a blip is not a failure: a suspect that answers again is read again', async () => {
    const a = router.client('a');
    a.down();
    await sut.checkAll();
    a.up();
    await sut.checkAll();
    expect(router.serving('a')).toBe(true);
    a.down();
    await sut.checkAll(); // the count started again
    expect(actions()).toEqual([]);
  });

  it('quarantines after two failures in a row, and rides out a pause shorter than removeAfterMs', async () => {
    const a = router.client('a');
    a.down();
    for (let t = 0; t < REMOVE_AFTER_MS - 2000; t += 2000) {
      clock.set(T0 + t);
      await sut.checkAll();
    }
    expect(actions()).toEqual(['quarantine a']);
    expect(sut.status('a')).toMatchObject({ state: 'quarantined' });

    a.up();
    await sut.checkAll();

    expect(actions()).toEqual(['quarantine a', 'rejoin a']);
    expect(router.serving('a')).toBe(true);
  });

  it('removes and replaces a node failing for removeAfterMs without a success', async () => {
    router.client('a').down();
    for (let t = 0; t <= REMOVE_AFTER_MS + 1000; t += 2000) {
      clock.set(T0 + t);
      await sut.checkAll();
    }
    expect(actions()).toEqual(['quarantine a', 'replace a']);
  });

  it('checks a suspected node at once', async () => {
    router.client('a').down();
    sut.suspect('a', 'read failed');
    expect(router.serving('a')).toBe(false);
    await eventually(() => router.client('a').callsOf('health').length === 1);
  });

  it('ignores suspicions of a node that left the pool', async () => {
    sut.suspect('gone', 'late error');
    await new Promise((resolve) => setImmediate(resolve));
    expect(router.client('gone').callsOf('health')).toEqual([]);
  });

  it('keeps checking after a replacement that failed', async () => {
    router.client('a').down();
    membership.failReplacements = new Error('no replacement could start');
    for (let t = 0; t <= REMOVE_AFTER_MS + 2000; t += 2000) {
      clock.set(T0 + t);
      await expect(sut.checkAll()).resolves.toBeUndefined();
    }
    expect(actions().filter((c) => c.startsWith('replace'))).toHaveLength(1);
  });

  describe('with a leader lease', () => {
    it('a follower quarantines, but neither rejoins, removes nor heals', async () => {
      setUp(new Lease(null));
      const a = router.client('a');
      a.down();
      for (let t = 0; t <= REMOVE_AFTER_MS + 2000; t += 2000) {
        clock.set(T0 + t);
        await sut.checkAll();
      }
      a.up();
      await sut.checkAll();
      expect(membership.calls).toEqual(['quarantine a']);
    });

    it('the leader removes, replaces and heals with its fencing token', async () => {
      setUp(new Lease(4));
      router.client('a').down();
      for (let t = 0; t <= REMOVE_AFTER_MS + 1000; t += 2000) {
        clock.set(T0 + t);
        await sut.checkAll();
      }
      expect(actions()).toEqual(['quarantine a', 'replace a fenced 4']);
      expect(membership.calls).toContain('heal fenced 4');
    });
  });

  it('reloads the assignment when the stored epoch is ahead of the one it routes by', async () => {
    store.saveAsAnotherInstance(poolState(4, ['a', 'b', 'c']));
    router.onNextReload(4, ['a', 'b', 'c']);

    await sut.checkAll();

    expect(router.reloads).toBe(1);
    expect(router.client('c').callsOf('health')).toHaveLength(1); // checks the new member too
  });

  it('checks every node on its interval once started, and stops at shutdown', async () => {
    sut.onModuleInit();
    await eventually(() => router.client('a').callsOf('health').length >= 2);
    sut.onApplicationShutdown();
    const checks = router.client('a').callsOf('health').length;
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(router.client('a').callsOf('health').length).toBeLessThanOrEqual(checks + 1);
  });
});
