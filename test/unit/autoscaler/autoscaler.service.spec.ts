import { Logger } from '@nestjs/common';
import { MISS_RATE_WINDOW_MS } from '../../../src/autoscaler/autoscaler.service';
import { ResizeInProgressError } from '../../../src/pool/membership/resize-lock';
import { autoscaler, decisionCounts, Gate, MINUTE, reading, T0 } from './autoscaler-fakes';

describe('AutoscalerService (simulated time)', () => {
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose', 'fatal']));

  it('grows the pool on a high miss rate, reading the last minute at the tick time', async () => {
    const { sut, pool, missRates } = autoscaler({ n: 2 });
    missRates.next = reading(0.91, 120);

    const decision = await sut.tick();

    expect(decision).toMatchObject({ n: 2, target: 4, action: 'grow', outcome: 'ok' });
    expect(pool.n).toBe(4);
    expect(pool.resizes).toEqual([
      { target: 4, reason: 'autoscaler: miss rate 0.91 > maxMiss 0.80' },
    ]);
    expect(missRates.calls).toEqual([{ windowEnd: T0, windowMs: MISS_RATE_WINDOW_MS }]);
  });

  it('shrinks the pool on a low miss rate', async () => {
    const { sut, pool, missRates } = autoscaler({ n: 6 });
    missRates.next = reading(0.02, 60);

    expect(await sut.tick()).toMatchObject({ action: 'shrink', target: 3, outcome: 'ok' });
    expect(pool.n).toBe(3);
  });

  it('leaves an idle pool alone', async () => {
    const { sut, pool, missRates } = autoscaler({ n: 4 });
    missRates.next = reading(0, 0);

    expect(await sut.tick()).toMatchObject({ action: 'none', reason: 'idle: 0 lookups < 10' });
    expect(pool.resizes).toEqual([]);
  });

  it('cools down for 2 minutes counted from the end of its resize', async () => {
    const { sut, clock, pool, missRates } = autoscaler({ n: 1 });
    missRates.next = reading(0.95, 100);
    pool.durationMs = 30_000;

    expect((await sut.tick()).target).toBe(2); // resize ends at T0 + 30 s
    clock.advance(MINUTE - 30_000);
    expect((await sut.tick()).reason).toBe('cooldown: 90 s left');
    clock.advance(MINUTE);
    expect((await sut.tick()).reason).toBe('cooldown: 30 s left');
    clock.advance(MINUTE);
    expect(await sut.tick()).toMatchObject({ action: 'grow', n: 2, target: 4 });
    expect(pool.resizes.map((resize) => resize.target)).toEqual([2, 4]);
  });

  it('skips a tick while another resize runs, without starting a cooldown', async () => {
    const { sut, clock, pool, missRates } = autoscaler({ n: 2 });
    missRates.next = reading(0.95, 100);
    const gate = new Gate();
    pool.gate = gate;
    const operatorResize = pool.resizeTo(3, 'operator');

    expect(await sut.tick()).toMatchObject({ action: 'none', reason: 'resize in progress' });
    expect(pool.resizes).toEqual([{ target: 3, reason: 'operator' }]);

    gate.open();
    await operatorResize;
    clock.advance(MINUTE);
    expect(await sut.tick()).toMatchObject({ action: 'grow', n: 3, target: 6 });
  });

  it('does not start a second tick while its own slow resize runs', async () => {
    const { sut, clock, pool, missRates } = autoscaler({ n: 2 });
    missRates.next = reading(0.95, 100);
    const gate = new Gate();
    pool.gate = gate;

    const first = sut.tick();
    await new Promise((resolve) => setImmediate(resolve));
    clock.advance(MINUTE);
    expect(await sut.tick()).toMatchObject({
      action: 'none',
      reason: 'previous tick still running',
    });
    expect(missRates.calls).toHaveLength(1);

    gate.open();
    expect(await first).toMatchObject({ action: 'grow', outcome: 'ok' });
    expect(pool.resizes).toHaveLength(1);
  });

  it('records a failed resize with its error and still cools down', async () => {
    const { sut, clock, pool, missRates } = autoscaler({ n: 2 });
    missRates.next = reading(0.95, 100);
    pool.failure = new Error('node 3 did not become healthy');

    expect(await sut.tick()).toMatchObject({
      action: 'grow',
      outcome: 'failed',
      error: 'node 3 did not become healthy',
    });
    clock.advance(MINUTE);
    expect((await sut.tick()).reason).toMatch(/^cooldown/);
  });

  it('takes a refusal by the rebalance lock (another instance won) as a failure without cooldown', async () => {
    const { sut, clock, pool, missRates } = autoscaler({ n: 2 });
    missRates.next = reading(0.95, 100);
    pool.durationMs = 0;
    pool.failure = new ResizeInProgressError('grow to 3 by another app instance');

    const decision = await sut.tick();
    expect(decision).toMatchObject({ action: 'grow', outcome: 'failed' });
    expect(decision.error).toMatch(/^ResizeInProgressError: a resize is already running/);

    pool.failure = null;
    clock.advance(MINUTE);
    expect(await sut.tick()).toMatchObject({ action: 'grow', outcome: 'ok' });
  });

  it('applies a policy change at the next tick', async () => {
    const { sut, clock, pool, missRates, policies } = autoscaler({ n: 2 });
    missRates.next = reading(0.85, 100);
    await policies.set({ maxMiss: 0.9 });

    expect((await sut.tick()).reason).toMatch(/^within band/);

    await policies.set({ maxMiss: 0.6, expRatio: 3 });
    clock.advance(MINUTE);
    expect(await sut.tick()).toMatchObject({ action: 'grow', target: 6 });
    expect(pool.n).toBe(6);
  });

  it('does nothing in manual mode, not even reading the metrics, and resumes when switched back', async () => {
    const { sut, clock, missRates, policies, pool } = autoscaler({
      n: 2,
      policy: { mode: 'manual' },
    });
    missRates.next = reading(0.95, 100);

    expect(await sut.tick()).toMatchObject({
      action: 'none',
      reason: 'manual mode',
      missRate: null,
    });
    expect(missRates.calls).toEqual([]);

    await policies.set({ mode: 'auto' });
    clock.advance(MINUTE);
    expect((await sut.tick()).action).toBe('grow');
    expect(pool.n).toBe(4);
  });

  it('lets a switch to manual during a slow metrics read win', async () => {
    const { sut, missRates, policies, pool } = autoscaler({ n: 2 });
    missRates.next = reading(0.95, 100);
    const gate = new Gate();
    missRates.gate = gate;

    const tick = sut.tick();
    await policies.set({ mode: 'manual' });
    gate.open();

    expect((await tick).reason).toBe('manual mode');
    expect(pool.resizes).toEqual([]);
  });

  it('records a failed metrics read as no decision, with the error', async () => {
    const { sut, missRates, pool } = autoscaler({ n: 2 });
    missRates.next = new Error('GetMetricData of Hits and Misses in Pixpool failed: Throttling');

    expect(await sut.tick()).toMatchObject({
      action: 'none',
      missRate: null,
      reason: 'no decision: GetMetricData of Hits and Misses in Pixpool failed: Throttling',
      error: 'GetMetricData of Hits and Misses in Pixpool failed: Throttling',
    });
    expect(pool.resizes).toEqual([]);
  });

  it('keeps the last 100 decisions newest first and counts every decision in Prometheus', async () => {
    const { sut, clock, pool, missRates, registry } = autoscaler({ n: 2 });
    pool.durationMs = 0;
    missRates.next = reading(0.95, 100);
    await sut.tick();
    missRates.next = reading(0.5, 100);
    for (let i = 0; i < 104; i++) {
      clock.advance(MINUTE);
      await sut.tick();
    }

    const recent = sut.recentDecisions();
    expect(recent).toHaveLength(100);
    expect(recent[0].at).toBe(new Date(T0.getTime() + 104 * MINUTE).toISOString());
    expect(recent[99].at).toBe(new Date(T0.getTime() + 5 * MINUTE).toISOString());
    expect(await decisionCounts(registry)).toEqual({ grow: 1, none: 104 });
  });

  it('shows a resize outcome on the dashboard list', async () => {
    const { sut, missRates } = autoscaler({ n: 2 });
    missRates.next = reading(0.95, 100);
    await sut.tick();

    expect(sut.recentDecisions()[0]).toMatchObject({ action: 'grow', outcome: 'ok' });
  });
});
