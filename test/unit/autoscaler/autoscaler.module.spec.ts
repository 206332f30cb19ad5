import { Logger } from '@nestjs/common';
import { ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import { Test, TestingModule } from '@nestjs/testing';
import { Registry } from 'prom-client';
import { AutoscalerModule } from '../../../src/autoscaler/autoscaler.module';
import {
  AUTOSCALER_POLICY_STORE,
  AutoscalerPolicyStore,
  POOL_RESIZER,
} from '../../../src/autoscaler/autoscaler.ports';
import { AUTOSCALER_INTERVAL } from '../../../src/autoscaler/autoscaler.scheduler';
import { AutoscalerService } from '../../../src/autoscaler/autoscaler.service';
import { InMemoryAutoscalerPolicyStore } from '../../../src/autoscaler/in-memory-autoscaler-policy.store';
import { loadConfig } from '../../../src/config/config-loader';
import { ConfigModule } from '../../../src/config/config.module';
import { MISS_RATE_SOURCE } from '../../../src/metrics/metrics.ports';
import { PoolMetrics } from '../../../src/metrics/prometheus/pool-metrics.service';
import { AUTO, FakeClock, FakePool, reading, ScriptedMissRates } from './autoscaler-fakes';

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('AutoscalerModule', () => {
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose', 'fatal']));

  let app: TestingModule | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function start(
    extraProviders: { provide: symbol; useValue: AutoscalerPolicyStore }[] = [],
    enabled = true,
  ) {
    const config = loadConfig();
    config.autoscaler.enabled = enabled;
    // Far below the validated minimum (1 s), so the real interval fires within the test.
    config.autoscaler.intervalMs = 20;
    const pool = new FakePool(new FakeClock(), 2);
    pool.durationMs = 0;
    const missRates = new ScriptedMissRates();
    missRates.next = reading(0.95, 100);
    app = await Test.createTestingModule({
      imports: [
        ScheduleModule.forRoot(),
        ConfigModule.forRoot(config),
        AutoscalerModule.register({
          providers: [
            { provide: POOL_RESIZER, useValue: pool },
            { provide: MISS_RATE_SOURCE, useValue: missRates },
            { provide: PoolMetrics, useValue: new PoolMetrics(new Registry()) },
            ...extraProviders,
          ],
        }),
      ],
    }).compile();
    await app.init();
    return { app, pool, missRates };
  }

  it('ticks on the configured interval, manual by default, and acts once the mode is switched to auto', async () => {
    const { app, pool, missRates } = await start();
    const sut = app.get(AutoscalerService);
    expect(app.get(SchedulerRegistry).getIntervals()).toContain(AUTOSCALER_INTERVAL);

    await until(() => sut.recentDecisions().length >= 2, 'two ticks');
    expect(sut.recentDecisions()[0]).toMatchObject({ action: 'none', reason: 'manual mode' });
    expect(missRates.calls).toEqual([]);

    await app.get<AutoscalerPolicyStore>(AUTOSCALER_POLICY_STORE).set({ mode: 'auto' });
    await until(() => pool.n === 4, 'a grow');
    expect(sut.recentDecisions().find((decision) => decision.action === 'grow')).toMatchObject({
      n: 2,
      target: 4,
      outcome: 'ok',
    });
  });

  it('runs no job on an instance where autoscaler.enabled is false', async () => {
    const { app } = await start([], false);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(app.get(SchedulerRegistry).getIntervals()).not.toContain(AUTOSCALER_INTERVAL);
    expect(app.get(AutoscalerService).recentDecisions()).toEqual([]);
  });

  it('stops ticking when the app closes', async () => {
    const { app } = await start();
    const sut = app.get(AutoscalerService);
    const registry = app.get(SchedulerRegistry);
    await until(() => sut.recentDecisions().length >= 1, 'a tick');

    await app.close();
    const ticks = sut.recentDecisions().length;
    await new Promise((resolve) => setTimeout(resolve, 100));

    expect(registry.getIntervals()).not.toContain(AUTOSCALER_INTERVAL);
    expect(sut.recentDecisions()).toHaveLength(ticks);
  });

  it('uses a policy store given in place of the in-memory one', async () => {
    const persisted = new InMemoryAutoscalerPolicyStore({ ...AUTO, expRatio: 3 });
    const { app, pool } = await start([{ provide: AUTOSCALER_POLICY_STORE, useValue: persisted }]);

    expect(app.get(AUTOSCALER_POLICY_STORE)).toBe(persisted);
    await until(() => pool.n === 6, 'a grow by expRatio 3');
  });
});
