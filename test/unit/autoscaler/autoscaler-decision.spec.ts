import { decide, DecideInput } from '../../../src/autoscaler/autoscaler-decision';
import { AUTO, LIMITS, MINUTE, T0 } from './autoscaler-fakes';

/** A busy minute at n=2 in auto mode, no resize so far; each test changes what it is about. */
function input(change: Partial<DecideInput> = {}): DecideInput {
  return {
    missRate: 0.5,
    lookups: 100,
    n: 2,
    policy: AUTO,
    limits: LIMITS,
    now: T0,
    lastResizeAt: null,
    resizing: false,
    ...change,
  };
}

describe('decide', () => {
  it('grows to ceil(n × expRatio) when the miss rate is above maxMiss', () => {
    expect(decide(input({ missRate: 0.91, n: 3, policy: { ...AUTO, expRatio: 1.5 } }))).toEqual({
      at: '2024-05-01T12:00:00.000Z',
      missRate: 0.91,
      lookups: 100,
      n: 3,
      target: 5,
      action: 'grow',
      reason: 'miss rate 0.91 > maxMiss 0.80',
    });
  });

  it('shrinks to floor(n × shrinkRatio) when the miss rate is below minMiss', () => {
    const sut = decide(input({ missRate: 0.05, n: 5 }));
    expect(sut).toMatchObject({ n: 5, target: 2, action: 'shrink' });
    expect(sut.reason).toBe('miss rate 0.05 < minMiss 0.20');
  });

  it('does nothing within the band, bounds included (course: equal means nothing)', () => {
    for (const missRate of [0.2, 0.5, 0.8]) {
      const sut = decide(input({ missRate }));
      expect(sut).toMatchObject({ action: 'none', target: 2 });
      expect(sut.reason).toMatch(/^within band/);
    }
  });

  it('clamps a grow at 8 and a shrink at 1', () => {
    expect(decide(input({ missRate: 0.9, n: 5 }))).toMatchObject({ action: 'grow', target: 8 });
    const shrink = input({ missRate: 0.1, n: 3, policy: { ...AUTO, shrinkRatio: 0.25 } });
    expect(decide(shrink)).toMatchObject({ action: 'shrink', target: 1 });
  });

  it('says the pool is at its bound when clamping leaves nothing to do', () => {
    expect(decide(input({ missRate: 0.9, n: 8 }))).toMatchObject({
      action: 'none',
      target: 8,
      reason: 'at max 8: miss rate 0.90 > maxMiss 0.80',
    });
    expect(decide(input({ missRate: 0.1, n: 1 }))).toMatchObject({
      action: 'none',
      target: 1,
      reason: 'at min 1: miss rate 0.10 < minMiss 0.20',
    });
  });

  it('never shrinks on a grow signal when the pool is above a lowered max', () => {
    const sut = decide(input({ missRate: 0.9, n: 6, limits: { ...LIMITS, max: 4 } }));
    expect(sut).toMatchObject({
      action: 'none',
      target: 6,
      reason: expect.stringMatching(/^at max 4/),
    });
  });

  it('does nothing when the ratio rounds to the same size', () => {
    const grow = decide(input({ missRate: 0.9, n: 3, policy: { ...AUTO, expRatio: 1 } }));
    expect(grow).toMatchObject({ action: 'none', target: 3 });
    expect(grow.reason).toBe('rounds to no change: miss rate 0.90 > maxMiss 0.80');
    const shrink = decide(input({ missRate: 0.1, n: 3, policy: { ...AUTO, shrinkRatio: 1 } }));
    expect(shrink).toMatchObject({ action: 'none', target: 3 });
    expect(shrink.reason).toMatch(/^rounds to no change/);
  });

  it('does nothing on an idle minute or one with fewer lookups than the minimum', () => {
    expect(decide(input({ missRate: 0, lookups: 0 }))).toMatchObject({
      action: 'none',
      reason: 'idle: 0 lookups < 10',
    });
    expect(decide(input({ missRate: 0.05, lookups: 9 })).reason).toBe('idle: 9 lookups < 10');
  });

  it('counts one read every 5 seconds (12 in a minute) as evidence', () => {
    expect(decide(input({ missRate: 0, lookups: 12, n: 4 }))).toMatchObject({
      action: 'shrink',
      target: 2,
    });
  });

  it('waits out the cooldown after a resize, then acts', () => {
    const lastResizeAt = new Date(T0.getTime() - 75_000);
    expect(decide(input({ missRate: 0.9, lastResizeAt }))).toMatchObject({
      action: 'none',
      reason: 'cooldown: 45 s left',
    });
    const later = new Date(lastResizeAt.getTime() + 2 * MINUTE);
    expect(decide(input({ missRate: 0.9, lastResizeAt, now: later })).action).toBe('grow');
  });

  it('skips while a resize runs, and does nothing in manual mode', () => {
    expect(decide(input({ missRate: 0.9, resizing: true })).reason).toBe('resize in progress');
    const manual = decide(
      input({ missRate: null, lookups: null, policy: { ...AUTO, mode: 'manual' } }),
    );
    expect(manual).toMatchObject({ action: 'none', reason: 'manual mode', missRate: null });
  });

  it('prints enough digits to tell the miss rate from the bound it crossed', () => {
    expect(decide(input({ missRate: 0.8001 })).reason).toBe('miss rate 0.8001 > maxMiss 0.8000');
  });
});
