import { Logger } from '@nestjs/common';
import { MembershipService } from '../../../../src/pool/membership/membership.service';
import { NodeSetup } from '../../../../src/pool/membership/node-setup.service';
import { MembershipChange } from '../../../../src/pool/pool-events';
import { poolState } from '../fakes/pool-state.fixtures';
import { world, World } from '../fakes/resize-world';

describe('MembershipService.heal (pool back to its target)', () => {
  let w: World;
  beforeAll(() => Logger.overrideLogger(false));
  afterEach(() => w?.router.onModuleDestroy());

  async function shortPool() {
    w = await world(2);
    // A failure left 2 of a target of 3 (no replacement could start then).
    w.store.saveAsAnotherInstance({ ...poolState(2, ['n1', 'n2']), target: 3 });
    await w.router.reload();
    const changes: MembershipChange[] = [];
    w.events.subscribe({ membershipChanged: (c) => changes.push(c) });
    const sut = new MembershipService(w.router, w.sut, w.setup as unknown as NodeSetup, w.events);
    return { sut, changes };
  }

  it('grows a pool short of its target back to it, with the reason recorded', async () => {
    const { sut, changes } = await shortPool();

    await sut.heal(7);

    expect(w.store.stored?.nodes).toHaveLength(3);
    expect(w.store.stored?.target).toBe(3);
    expect(changes).toMatchObject([
      { change: 'replaced', node: null, reason: 'pool 2 < target 3 after a failure' },
    ]);
  });

  it('waits before trying again after a replacement failed to start', async () => {
    const { sut } = await shortPool();
    w.provider.failNextStart = new Error('InsufficientInstanceCapacity');

    await expect(sut.heal()).rejects.toThrow('InsufficientInstanceCapacity');
    await sut.heal(); // within the back-off: not asked again

    expect(w.journal.filter((line) => line.startsWith('start'))).toHaveLength(1);
    expect(w.store.stored?.nodes).toHaveLength(2);
  });

  it('leaves a pool at its target alone', async () => {
    w = await world(2);
    const sut = new MembershipService(w.router, w.sut, w.setup as unknown as NodeSetup, w.events);
    await sut.heal();
    expect(w.store.saves).toEqual([]);
  });
});
