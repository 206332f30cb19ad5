import { ServiceUnavailableException } from '@nestjs/common';
import { NotifyController } from '../../../src/frontend/notify.controller';
import type { PoolRouter } from '../../../src/pool/routing/pool-router.service';

/**
 * A router over a database holding epoch `stored` (null: unreachable). With `sharedStaleRead`,
 * reload() joins a read begun before that epoch was saved, and adopts nothing; refresh() reads anew.
 */
function router(routedEpoch: number, stored: number | null, sharedStaleRead = false) {
  const fake = {
    epoch: routedEpoch,
    refresh: async () => {
      if (stored === null) throw new Error('database unreachable');
      if (stored > fake.epoch) fake.epoch = stored;
    },
    reload: async () => {
      if (!sharedStaleRead) await fake.refresh().catch(() => undefined);
    },
  };
  return fake as unknown as PoolRouter;
}

describe('POST /api/notify', () => {
  it('answers once this instance routes by the notified epoch', async () => {
    const sut = new NotifyController(router(4, 5));
    await expect(sut.notify({ epoch: 5 })).resolves.toEqual({ success: 'true', epoch: 5 });
  });

  it('reads again when its reload joined a read begun before the save', async () => {
    const sut = new NotifyController(router(4, 5, true));
    await expect(sut.notify({ epoch: 5 })).resolves.toEqual({ success: 'true', epoch: 5 });
  });

  it('answers 503 when it could not adopt it (the notifier then waits out the poll)', async () => {
    const sut = new NotifyController(router(4, null)); // database unreachable
    await expect(sut.notify({ epoch: 5 })).rejects.toBeInstanceOf(ServiceUnavailableException);
  });

  it("accepts group15's body without an epoch", async () => {
    const sut = new NotifyController(router(4, null));
    await expect(
      sut.notify({ node_ip: ['10.0.0.1:5001'], mode: 'grow', change: 1 }),
    ).resolves.toEqual({ success: 'true', epoch: 4 });
  });
});
