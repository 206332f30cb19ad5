import { Logger } from '@nestjs/common';
import { loadConfig } from '../../../src/config/config-loader';
import { NodeFailureService } from '../../../src/pool/node-failure.service';
import { PoolRouter } from '../../../src/pool/pool-router.service';
import { ResizeService } from '../../../src/pool/resize.service';
import { eventually } from './fakes/deferred';
import { FakePoolRouter } from './fakes/fake-pool-router';
import { FakeResizer } from './fakes/fake-resizer';
import { InMemoryPoolStateStore } from './fakes/in-memory-pool-state.store';
import { poolState } from './fakes/pool-state.fixtures';

describe('NodeFailureService', () => {
  let router: FakePoolRouter;
  let resizer: FakeResizer;
  let store: InMemoryPoolStateStore;
  let sut: NodeFailureService;

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(() => {
    router = new FakePoolRouter().assign(3, ['a', 'b']);
    resizer = new FakeResizer();
    store = new InMemoryPoolStateStore(poolState(3, ['a', 'b']));
    sut = new NodeFailureService(
      loadConfig({ overrides: { pool: { healthIntervalMs: 100 } } }),
      router as unknown as PoolRouter,
      resizer as unknown as ResizeService,
      store,
    );
  });
  afterEach(() => sut.onApplicationShutdown());

  it('removes a node after two failed health checks in a row, and only that node', async () => {
    router.client('a').down();

    await sut.checkAll();
    expect(resizer.removed).toEqual([]);
    expect(sut.status('a')).toMatchObject({
      ok: false,
      error: expect.stringContaining('unavailable'),
    });
    expect(sut.status('b')).toMatchObject({ ok: true });

    await sut.checkAll();
    expect(resizer.removed).toEqual([{ id: 'a', why: expect.stringMatching(/2 health checks/) }]);
  });

  it('forgets a failed check once the node answers again', async () => {
    const a = router.client('a');
    a.down();
    await sut.checkAll();
    a.up();
    await sut.checkAll();
    expect(sut.status('a')).toMatchObject({ ok: true });
    a.down();
    await sut.checkAll();

    expect(resizer.removed).toEqual([]);
  });

  it('checks a suspected node at once and removes it on the first failed check', async () => {
    router.client('a').down();

    sut.suspect('a', 'read failed');

    await eventually(() => resizer.removed.length === 1);
    expect(resizer.removed[0].id).toBe('a');
    expect(router.client('a').callsOf('health')).toHaveLength(1);
  });

  it('keeps a suspected node that answers its health check', async () => {
    sut.suspect('b', 'one slow read');
    await eventually(() => router.client('b').callsOf('health').length === 1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(resizer.removed).toEqual([]);
    expect(sut.status('b')).toMatchObject({ ok: true });
  });

  it('ignores suspicions of a node that left the pool', async () => {
    sut.suspect('gone', 'late error');
    await new Promise((resolve) => setImmediate(resolve));
    expect(router.client('gone').callsOf('health')).toEqual([]);
    expect(resizer.removed).toEqual([]);
  });

  it('keeps checking after a removal that failed', async () => {
    router.client('a').down();
    resizer.failRemovals = new Error('no replacement could start');
    await sut.checkAll();
    await expect(sut.checkAll()).resolves.toBeUndefined();
    expect(resizer.removed).toHaveLength(1);
  });

  it('reloads the assignment when the stored epoch is ahead of the one it routes by', async () => {
    store.saveAsAnotherInstance(poolState(4, ['a', 'b', 'c']));
    router.onNextReload(4, ['a', 'b', 'c']);

    await sut.checkAll();

    expect(router.reloads).toBe(1);
    expect(router.client('c').callsOf('health')).toHaveLength(1); // checks the new member too
  });

  it('does not reload when the stored epoch is not ahead', async () => {
    await sut.checkAll();
    expect(router.reloads).toBe(0);
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
