import { Logger } from '@nestjs/common';
import { Leadership } from '../../../src/coordination/leadership.port';
import { PoolEvents } from '../../../src/pool/pool-events';
import { autoscaler, reading } from './autoscaler-fakes';

/** Leadership as a lease would answer it, switched by the test. */
class SwitchedLeadership implements Leadership {
  constructor(public epoch: number | null) {}
  isLeader(): boolean {
    return this.epoch !== null;
  }
  fencingToken(): number | null {
    return this.epoch;
  }
}

describe('AutoscalerService with a leader lease', () => {
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose', 'fatal']));

  it('does nothing on an instance that does not lead: no metrics read, no resize, no record', async () => {
    const { sut, pool, missRates } = autoscaler({ n: 2, leadership: new SwitchedLeadership(null) });
    missRates.next = reading(0.95, 100);

    expect(await sut.tick()).toMatchObject({ action: 'none', reason: 'not the leader' });
    expect(missRates.calls).toEqual([]);
    expect(pool.resizes).toEqual([]);
    expect(sut.recentDecisions()).toEqual([]);
  });

  it('resizes with its fencing token while it leads', async () => {
    const { sut, pool, missRates } = autoscaler({ n: 2, leadership: new SwitchedLeadership(7) });
    missRates.next = reading(0.95, 100);

    expect(await sut.tick()).toMatchObject({ action: 'grow', outcome: 'ok' });
    expect(pool.resizes).toEqual([expect.objectContaining({ target: 4, fencingToken: 7 })]);
  });

  it('does not resize when its lease ran out while it was deciding', async () => {
    const leadership = new SwitchedLeadership(7);
    const { sut, pool, missRates } = autoscaler({ n: 2, leadership });
    missRates.next = reading(0.95, 100);
    const original = missRates.missRate.bind(missRates);
    missRates.missRate = async (end, ms) => {
      const answer = await original(end, ms);
      leadership.epoch = null; // deposed during a slow metrics read
      return answer;
    };

    expect(await sut.tick()).toMatchObject({ action: 'grow', outcome: 'failed' });
    expect(pool.resizes).toEqual([]);
  });

  it('records a replacement of a failed node in the decision log and counts it', async () => {
    const events = new PoolEvents();
    const { sut, registry } = autoscaler({ n: 3, events });

    events.membershipChanged({
      change: 'replaced',
      node: 'node-2',
      replacement: 'node-4',
      reason: 'no answer for 15000 ms',
      at: new Date().toISOString(),
    });
    events.membershipChanged({ change: 'quarantined', node: 'node-1', reason: 'x', at: '' });

    expect(sut.recentDecisions()).toEqual([
      expect.objectContaining({
        action: 'replace',
        n: 3,
        outcome: 'ok',
        reason: 'replaced failed node node-2 by node-4: no answer for 15000 ms',
      }),
    ]);
    expect(await registry.metrics()).toMatch(
      /pixpool_autoscaler_decisions_total\{action="replace"\} 1/,
    );
  });
});
